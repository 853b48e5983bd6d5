using DuckDB.NET.Data;

namespace FlagExport.Tests.Formats;

/// <summary>Reads Parquet bytes with DuckDB's own Parquet reader, which shares no code with Parquet.Net. Also linked into the collector tests.</summary>
internal static class DuckDbParquet
{
    /// <summary>Runs <paramref name="sql"/> on an in-memory DuckDB where <c>{file}</c> is a temp copy of <paramref name="file"/>.</summary>
    public static List<object?[]> Query(byte[] file, string sql)
    {
        string path = Path.Combine(Path.GetTempPath(), $"flagexport-{Guid.NewGuid():N}.parquet");
        File.WriteAllBytes(path, file);
        try
        {
            using var connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            using DuckDBCommand command = connection.CreateCommand();
            command.CommandText = sql.Replace("{file}", $"'{path}'", StringComparison.Ordinal);
            using System.Data.Common.DbDataReader reader = command.ExecuteReader();
            var rows = new List<object?[]>();
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }

            return rows;
        }
        finally
        {
            File.Delete(path);
        }
    }
}

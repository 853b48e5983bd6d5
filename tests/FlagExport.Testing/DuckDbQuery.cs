using System.Data.Common;
using DuckDB.NET.Data;

namespace FlagExport.Testing;

/// <summary>The rows of a DuckDB query, with the SQL type DuckDB gave each column.</summary>
public sealed record DuckDbResult(string[] Columns, string[] Types, List<object?[]> Rows);

/// <summary>Runs SQL on an in-memory DuckDB, whose Parquet and JSON readers share no code with FlagExport's writers.</summary>
public static class DuckDbQuery
{
    /// <summary>Runs <paramref name="setup"/> (settings such as <c>SET TimeZone</c>), then <paramref name="query"/>, in one connection.</summary>
    /// <remarks>The type names are DuckDB.NET's (<c>BigInt</c>, <c>Varchar</c>, <c>Date</c>, …), one per SQL type.</remarks>
    public static DuckDbResult Run(string query, params string[] setup)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        foreach (string statement in setup)
        {
            using DuckDBCommand settings = connection.CreateCommand();
            settings.CommandText = statement;
            _ = settings.ExecuteNonQuery();
        }

        using DuckDBCommand command = connection.CreateCommand();
        command.CommandText = query;
        using DbDataReader reader = command.ExecuteReader();
        string[] columns = [.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)];
        string[] types = [.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetDataTypeName)];
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

        return new DuckDbResult(columns, types, rows);
    }

    /// <summary>A SQL string literal of <paramref name="path"/>, with forward slashes (DuckDB's globs want them on every OS).</summary>
    public static string Literal(string path) => "'" + path.Replace('\\', '/').Replace("'", "''", StringComparison.Ordinal) + "'";
}

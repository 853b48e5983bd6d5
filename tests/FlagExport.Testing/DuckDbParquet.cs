
namespace FlagExport.Testing;

/// <summary>Reads Parquet bytes with DuckDB's own Parquet reader, which shares no code with Parquet.Net. Also linked into the collector tests.</summary>
public static class DuckDbParquet
{
    /// <summary>Runs <paramref name="sql"/> on an in-memory DuckDB where <c>{file}</c> is a temp copy of <paramref name="file"/>.</summary>
    public static List<object?[]> Query(byte[] file, string sql)
    {
        string path = Path.Combine(Path.GetTempPath(), $"flagexport-{Guid.NewGuid():N}.parquet");
        File.WriteAllBytes(path, file);
        try
        {
            return DuckDbQuery.Run(sql.Replace("{file}", DuckDbQuery.Literal(path), StringComparison.Ordinal)).Rows;
        }
        finally
        {
            File.Delete(path);
        }
    }
}

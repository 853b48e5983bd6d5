using ParquetSharp;

namespace FlagExport.Tests.Formats;

/// <summary>One column chunk as an independent reader sees it.</summary>
public sealed record ParquetColumnInfo(
    string Path, string PhysicalType, string LogicalType, int MaxDefinitionLevel, int MaxRepetitionLevel,
    string Compression, string[] Encodings);

/// <summary>
/// Reads files written by FlagExport with readers that share no code with Parquet.Net: ParquetSharp (Apache Arrow's
/// C++ reader) and DuckDB's own Parquet reader.
/// </summary>
internal static class ParquetReaders
{
    /// <summary>Reads every column of the single row group with ParquetSharp, maps as lists of entries.</summary>
    public static Dictionary<string, object[]> ReadWithParquetSharp(byte[] file, out long rowCount, out int rowGroupCount)
    {
        using var stream = new MemoryStream(file, writable: false);
        using var reader = new ParquetFileReader(stream, leaveOpen: true);
        FileMetaData meta = reader.FileMetaData;
        rowCount = meta.NumRows;
        rowGroupCount = meta.NumRowGroups;
        var columns = new Dictionary<string, object[]>(StringComparer.Ordinal);
        if (rowGroupCount == 0)
        {
            return columns;
        }

        using RowGroupReader rowGroup = reader.RowGroup(0);
        int rows = checked((int)rowGroup.MetaData.NumRows);
        for (int i = 0; i < meta.NumColumns; i++)
        {
            ColumnDescriptor descriptor = meta.Schema.Column(i);
            string path = descriptor.Path.ToDotString();
            using ColumnReader column = rowGroup.Column(i);
            columns[path] = descriptor.MaxRepetitionLevel > 0
                ? [.. column.LogicalReader<string[]>().ReadAll(rows)]
                : descriptor.PhysicalType switch
                {
                    PhysicalType.Int64 => [.. column.LogicalReader<long>().ReadAll(rows).Cast<object>()],
                    PhysicalType.Boolean => [.. column.LogicalReader<bool>().ReadAll(rows).Cast<object>()],
                    _ => [.. column.LogicalReader<string>().ReadAll(rows)],
                };
        }

        return columns;
    }

    /// <summary>The schema and column chunk metadata of the first row group, as ParquetSharp reports them.</summary>
    public static ParquetColumnInfo[] DescribeWithParquetSharp(byte[] file)
    {
        using var stream = new MemoryStream(file, writable: false);
        using var reader = new ParquetFileReader(stream, leaveOpen: true);
        FileMetaData meta = reader.FileMetaData;
        using RowGroupReader rowGroup = reader.RowGroup(0);
        return
        [
            .. Enumerable.Range(0, meta.NumColumns).Select(i =>
            {
                ColumnDescriptor descriptor = meta.Schema.Column(i);
                using ColumnChunkMetaData chunk = rowGroup.MetaData.GetColumnChunkMetaData(i);
                using LogicalType logicalType = descriptor.LogicalType;
                return new ParquetColumnInfo(
                    descriptor.Path.ToDotString(), descriptor.PhysicalType.ToString(), logicalType.Type.ToString(),
                    descriptor.MaxDefinitionLevel, descriptor.MaxRepetitionLevel, chunk.Compression.ToString(),
                    [.. chunk.Encodings.Select(e => e.ToString())]);
            }),
        ];
    }

    /// <summary>The top-level fields of the schema: name, repetition and logical type of each.</summary>
    public static (string Name, string Repetition, string LogicalType)[] TopLevelFieldsWithParquetSharp(byte[] file)
    {
        using var stream = new MemoryStream(file, writable: false);
        using var reader = new ParquetFileReader(stream, leaveOpen: true);
        var root = reader.FileMetaData.Schema.GroupNode;
        return [.. root.Fields.Select(f => (f.Name, f.Repetition.ToString(), f.LogicalType.Type.ToString()))];
    }

    /// <summary>Runs <paramref name="sql"/> on a DuckDB in-memory database where <c>{file}</c> is a temp copy of <paramref name="file"/>.</summary>
    public static List<object?[]> QueryWithDuckDb(byte[] file, string sql) => DuckDbParquet.Query(file, sql);
}

using ParquetSharp;

namespace FlagExport.Tests.Formats;

/// <summary>One column chunk as an independent reader sees it.</summary>
public sealed record ParquetColumnInfo(
    string Path, string PhysicalType, string LogicalType, int MaxDefinitionLevel, int MaxRepetitionLevel,
    string Compression, string[] Encodings);

/// <summary>One column chunk of one row group, as ParquetSharp reports it.</summary>
/// <param name="RowGroup">The row group's index.</param>
/// <param name="Rows">The row group's row count.</param>
/// <param name="Path">The column's dotted path.</param>
/// <param name="HasMinMax">Whether the chunk's statistics hold a minimum and a maximum.</param>
/// <param name="Int64Min">The minimum of an INT64 column, else null.</param>
/// <param name="Int64Max">The maximum of an INT64 column, else null.</param>
/// <param name="Encodings">The chunk's encodings.</param>
public sealed record ParquetChunkInfo(int RowGroup, long Rows, string Path, bool HasMinMax, long? Int64Min, long? Int64Max, string[] Encodings);

/// <summary>
/// Reads files written by FlagExport with readers that share no code with Parquet.Net: ParquetSharp (Apache Arrow's
/// C++ reader) and DuckDB's own Parquet reader.
/// </summary>
internal static class ParquetReaders
{
    /// <summary>Reads every column with ParquetSharp, row groups one after the other, maps as lists of entries.</summary>
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

        for (int i = 0; i < meta.NumColumns; i++)
        {
            ColumnDescriptor descriptor = meta.Schema.Column(i);
            var values = new List<object>();
            for (int g = 0; g < rowGroupCount; g++)
            {
                using RowGroupReader rowGroup = reader.RowGroup(g);
                int rows = checked((int)rowGroup.MetaData.NumRows);
                using ColumnReader column = rowGroup.Column(i);
                values.AddRange(descriptor.MaxRepetitionLevel > 0
                    ? column.LogicalReader<string[]>().ReadAll(rows)
                    : descriptor.PhysicalType switch
                    {
                        PhysicalType.Int64 => column.LogicalReader<long>().ReadAll(rows).Cast<object>(),
                        PhysicalType.Boolean => column.LogicalReader<bool>().ReadAll(rows).Cast<object>(),
                        _ => column.LogicalReader<string>().ReadAll(rows),
                    });
            }

            columns[descriptor.Path.ToDotString()] = [.. values];
        }

        return columns;
    }

    /// <summary>Every column chunk of every row group: row counts, statistics and encodings.</summary>
    public static ParquetChunkInfo[] DescribeRowGroupsWithParquetSharp(byte[] file)
    {
        using var stream = new MemoryStream(file, writable: false);
        using var reader = new ParquetFileReader(stream, leaveOpen: true);
        FileMetaData meta = reader.FileMetaData;
        var chunks = new List<ParquetChunkInfo>();
        for (int g = 0; g < meta.NumRowGroups; g++)
        {
            using RowGroupReader rowGroup = reader.RowGroup(g);
            for (int i = 0; i < meta.NumColumns; i++)
            {
                using ColumnChunkMetaData chunk = rowGroup.MetaData.GetColumnChunkMetaData(i);
                using Statistics? statistics = chunk.Statistics;
                bool hasMinMax = statistics?.HasMinMax ?? false;
                var int64 = hasMinMax ? statistics as Statistics<long> : null;
                chunks.Add(new ParquetChunkInfo(
                    g, rowGroup.MetaData.NumRows, meta.Schema.Column(i).Path.ToDotString(), hasMinMax,
                    int64?.Min, int64?.Max, [.. chunk.Encodings.Select(e => e.ToString())]));
            }
        }

        return [.. chunks];
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

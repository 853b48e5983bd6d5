using System.Globalization;
using StringBuilder = System.Text.StringBuilder;
using Parquet;
using Parquet.Meta;

namespace FlagExport.Benchmarks;

/// <summary>
/// <c>parquet-columns</c>: where the bytes of the Parquet benchmark's two files go, column chunk by column chunk
/// (compressed and uncompressed bytes per event, encodings, whether statistics are present), for each codec: the
/// evidence behind docs/parquet.md's size table.
/// </summary>
internal static class ParquetColumnSizes
{
    public static async Task<int> RunAsync()
    {
        foreach (string codec in new[] { "SNAPPY", "ZSTD" })
        {
            var bench = new ParquetEncodingBenchmarks { Codec = codec };
            bench.Setup();
            try
            {
                Console.WriteLine(await DescribeAsync($"ParquetSerializer, {codec}", bench.SerializerFile()));
                Console.WriteLine(await DescribeAsync($"ParquetEncoder, {codec}", bench.EncoderFile()));
            }
            finally
            {
                bench.Cleanup();
            }
        }

        return 0;
    }

    /// <summary>A markdown table of the file's column chunks, summed over its row groups.</summary>
    public static async Task<string> DescribeAsync(string title, byte[] file)
    {
        using var stream = new MemoryStream(file, writable: false);
        await using ParquetReader reader = await ParquetReader.CreateAsync(stream);
        FileMetaData meta = reader.Metadata ?? throw new InvalidDataException("The file has no footer.");
        double rows = meta.NumRows;
        var columns = new Dictionary<string, (long Compressed, long Uncompressed, HashSet<Encoding> Encodings, bool Statistics)>();
        var order = new List<string>();
        foreach (RowGroup group in meta.RowGroups)
        {
            foreach (ColumnChunk chunk in group.Columns)
            {
                ColumnMetaData column = chunk.MetaData!;
                string path = string.Join('.', column.PathInSchema);
                if (!columns.TryGetValue(path, out var sum))
                {
                    order.Add(path);
                    sum = (0, 0, [], true);
                }

                sum.Encodings.UnionWith(column.Encodings);
                columns[path] = (sum.Compressed + column.TotalCompressedSize, sum.Uncompressed + column.TotalUncompressedSize, sum.Encodings,
                    sum.Statistics && column.Statistics is { MinValue: not null, MaxValue: not null });
            }
        }

        var text = new StringBuilder();
        _ = text.AppendLine(CultureInfo.InvariantCulture, $"{title}: {file.Length:N0} B, {file.Length / rows:0.00} B/event, {meta.RowGroups.Count} row group(s), {rows:N0} rows")
            .AppendLine()
            .AppendLine("| column | encodings | compressed B/event | uncompressed B/event | min/max |")
            .AppendLine("|---|---|---:|---:|---|");
        foreach (string path in order)
        {
            var c = columns[path];
            _ = text.AppendLine(CultureInfo.InvariantCulture,
                $"| {path} | {string.Join(", ", c.Encodings.Order())} | {c.Compressed / rows:0.000} | {c.Uncompressed / rows:0.000} | {(c.Statistics ? "yes" : "no")} |");
        }

        long footer = file.Length - columns.Values.Sum(c => c.Compressed);
        return text.AppendLine(CultureInfo.InvariantCulture, $"| (footer, magic) | | {footer / rows:0.000} | | |").ToString();
    }
}

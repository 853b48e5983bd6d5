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
        Console.WriteLine(Floors(SampleBatch.Create(ParquetEncodingBenchmarks.Events)));
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

    /// <summary>
    /// The least bytes per event any lossless writer keeping the row order needs for each column of the batch, if it
    /// knew each column's value frequencies for free: the empirical entropy of the column's values, rows taken as
    /// independent draws (as <see cref="SampleBatch"/> makes them). A map column counts whole maps, once per leaf
    /// column, since each leaf column carries the map's shape in its levels.
    /// </summary>
    public static string Floors(ExportableEvent[] events)
    {
        FeatureEvent[] rows = [.. events.Cast<FeatureEvent>()];
        (string Column, Func<FeatureEvent, string> Value)[] columns =
        [
            ("contextKind", e => e.ContextKind), ("userKey", e => e.UserKey), ("key", e => e.Key), ("variation", e => e.Variation),
            ("value", e => e.Value.ToString()), ("default", e => e.Default ? "1" : "0"), ("version", e => e.Version ?? ""),
            ("source", e => e.Source ?? ""),
            ("metadata (per leaf column)", e => e.Metadata is { } m ? string.Join(",", m.Select(p => $"{p.Key}={p.Value}")) : ""),
        ];
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Entropy floors of SampleBatch ({rows.Length:N0} events):")
            .AppendLine()
            .AppendLine("| column | distinct values | bits per row | floor B/event |")
            .AppendLine("|---|---:|---:|---:|");
        double total = 0;
        foreach ((string column, Func<FeatureEvent, string> value) in columns)
        {
            Dictionary<string, int> counts = rows.GroupBy(value).ToDictionary(g => g.Key, g => g.Count());
            double bits = Math.Max(0, -counts.Values.Sum(c => (double)c / rows.Length * Math.Log2((double)c / rows.Length)));
            int leaves = column.StartsWith("metadata", StringComparison.Ordinal) ? 2 : 1;
            total += leaves * bits / 8;
            _ = text.AppendLine(CultureInfo.InvariantCulture, $"| {column} | {counts.Count:N0} | {bits:0.000} | {leaves * bits / 8:0.000} |");
        }

        // The user keys are random UUIDs: 128 bits each that no writer can leave out.
        int users = rows.Select(e => e.UserKey).Distinct(StringComparer.Ordinal).Count();
        double uuids = users * 16.0 / rows.Length;
        total += uuids;
        return text.AppendLine(CultureInfo.InvariantCulture, $"| userKey's distinct UUIDs (16 B each) | {users:N0} | | {uuids:0.000} |")
            .AppendLine(CultureInfo.InvariantCulture, $"| total (kind, creationDate: 0) | | | {total:0.000} |")
            .ToString();
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

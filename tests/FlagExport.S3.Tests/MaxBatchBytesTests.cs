using System.Globalization;
using System.IO.Compression;
using FlagExport.S3.Tests.Support;
using ZstdSharp;

namespace FlagExport.S3.Tests;

/// <summary>
/// The S3 exporter with <see cref="ExportFileOptions.MaxBatchBytes"/>: objects bounded on their compressed size, in
/// order, named with the next suffixes, the same on a second run, and a retry that writes each object once (in-memory S3).
/// </summary>
public sealed class MaxBatchBytesTests
{
    private const string Bucket = "in-memory-bucket";
    private const int Max = 64 * 1024; // the events compress well: several objects without huge batches

    [Theory]
    [InlineData("CSV", "gzip", 60_000)]
    [InlineData("JSON", "zstd", 60_000)]
    [InlineData("JSON", "none", 2_000)]
    public async Task ExportAsync_CompressedTextAboveMaxBatchBytes_ObjectsWithinBoundsAfterCompressionThatDecompressToTheBatch(string format, string compression, int count)
    {
        using var s3 = new InMemoryS3(Bucket);
        S3ExporterOptions options = Options(format, compression);
        using var exporter = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        FeatureEvent[] events = ObjectStoreEvents.Create(count, "bytes");

        await exporter.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);

        string[] keys = PartKeys(s3);
        Assert.True(keys.Length >= 3, $"{keys.Length} objects");
        string extension = (format == "CSV" ? ".csv" : ".json") + compression switch { "gzip" => ".gz", "zstd" => ".zst", _ => "" };
        Assert.Equal([$"p/batch{extension}", .. Enumerable.Range(1, keys.Length - 1).Select(i => $"p/batch-{i}{extension}")], keys);
        byte[][] bodies = [.. keys.Select(k => Body(s3, k))];
        AssertSizes(bodies);
        byte[] decoded = [.. bodies.SelectMany(b => Decompress(b, compression))];
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), decoded);
    }

    [Theory]
    [InlineData("SNAPPY", 60_000, Max)]
    [InlineData("ZSTD", 100_000, Max / 4)] // with ZSTD these events take under a byte per row
    public async Task ExportAsync_ParquetAboveMaxBatchBytes_ObjectsWithinBoundsThatReadBackAsTheBatchInOrder(string codec, int count, int max)
    {
        using var s3 = new InMemoryS3(Bucket);
        S3ExporterOptions options = Options("Parquet", "none");
        options.ParquetCompressionCodec = codec;
        options.MaxBatchBytes = max;
        using var exporter = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        FeatureEvent[] events = ObjectStoreEvents.Create(count, "pq");

        await exporter.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);

        byte[][] bodies = [.. PartKeys(s3).Select(k => Body(s3, k))];
        Assert.True(bodies.Length >= 3, $"{bodies.Length} objects");
        AssertSizes(bodies, max);
        Assert.Equal(events.Select(e => e.UserKey), bodies.SelectMany(body => ObjectEvents.UserKeys("part.parquet", body)));
    }

    [Fact]
    public async Task ExportAsync_DatePartitionedBatch_CutsEachPartitionIntoItsOwnParts()
    {
        using var s3 = new InMemoryS3(Bucket);
        S3ExporterOptions options = Options("JSON", "none");
        options.S3Path = "p/{{ .Hour}}/";
        using var exporter = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        FeatureEvent[] h12 = ObjectStoreEvents.Create(1_500, "h12");
        FeatureEvent[] h13 = ObjectStoreEvents.Create(1_500, "h13", ObjectStoreEvents.CreationDate + 3600);

        await exporter.ExportAsync(new ExportBatch([.. h12, .. h13]), TestContext.Current.CancellationToken);

        foreach ((string hour, FeatureEvent[] events) in new[] { ("12", h12), ("13", h13) })
        {
            string[] keys = PartKeys(s3, $"p/{hour}/");
            Assert.True(keys.Length >= 2, $"{keys.Length} objects in hour {hour}");
            Assert.Equal($"p/{hour}/batch.json", keys[0]);
            byte[][] bodies = [.. keys.Select(k => Body(s3, k))];
            AssertSizes(bodies);
            Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), bodies.SelectMany(b => b).ToArray());
        }
    }

    [Fact]
    public async Task ExportAsync_SameBatchTwiceWithFreshExporters_WritesTheSameKeysAndBytes()
    {
        FeatureEvent[] events = ObjectStoreEvents.Create(60_000, "again");
        using var first = new InMemoryS3(Bucket);
        using var second = new InMemoryS3(Bucket);
        using (var exporter = new S3Exporter(Options("CSV", "gzip"), first) { Writer = { Reservations = new ObjectNameReservations() } })
        {
            await exporter.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);
        }

        using (var exporter = new S3Exporter(Options("CSV", "gzip"), second) { Writer = { Reservations = new ObjectNameReservations() } })
        {
            await exporter.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);
        }

        string[] keys = PartKeys(first);
        Assert.True(keys.Length >= 3);
        Assert.Equal(keys, PartKeys(second));
        Assert.All(keys, k => Assert.Equal(Body(first, k), Body(second, k)));
    }

    [Theory]
    [InlineData(false, false)] // the second PutObject fails before it acts; the same exporter retries
    [InlineData(true, false)] // it acts and its answer is lost; the same exporter retries
    [InlineData(true, true)] // its answer is lost and the process restarts: a new exporter retries from the batch's records
    public async Task ExportAsync_RetryAfterTheSecondObjectFailed_WritesTheRestOnceUnderTheSameKeys(bool committed, bool newExporter)
    {
        FeatureEvent[] events = ObjectStoreEvents.Create(60_000, "retry");
        S3ExporterOptions options = Options("CSV", "gzip");
        using var clean = new InMemoryS3(Bucket);
        using (var reference = new S3Exporter(options, clean) { Writer = { Reservations = new ObjectNameReservations() } })
        {
            await reference.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);
        }

        string[] expected = PartKeys(clean);
        Assert.True(expected.Length >= 3, $"{expected.Length} objects");
        using var s3 = new InMemoryS3(Bucket);
        _ = committed ? s3.CommitThenFail("PutObject", 2, InMemoryS3.NetworkError()) : s3.Fail("PutObject", 2, InMemoryS3.NetworkError());
        var batch = new ExportBatch(events);
        var exporter = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        _ = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        Assert.Equal(committed ? expected[..2] : expected[..1], PartKeys(s3));
        if (newExporter)
        {
            exporter.Dispose();
            exporter = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        }

        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);
        exporter.Dispose();

        Assert.Equal(expected, PartKeys(s3));
        Assert.All(expected, k => Assert.Equal(Body(clean, k), Body(s3, k)));
        int puts = s3.Calls.Count(c => c.StartsWith("PutObject ", StringComparison.Ordinal));
        // The first, the failed second, then the second again (written, or refused and found by its write id) and the
        // rest; a new exporter has no memory of the first and tries it again too (refused, found by its write id).
        Assert.Equal(expected.Length + 1 + (newExporter ? 1 : 0), puts);
        Assert.Equal(expected[1], "p/" + ExportFileEncoder.WithSuffix("batch.csv", int.Parse(batch.GetRecorded("s3.part1.suffix:p/")!, CultureInfo.InvariantCulture)) + ".gz");
    }

    private static S3ExporterOptions Options(string format, string compression) => new()
    {
        Bucket = Bucket,
        S3Path = "p/",
        Filename = "batch.{{ .Format}}",
        Format = format,
        Compression = compression,
        MaxBatchBytes = Max,
    };

    /// <summary>The keys under <paramref name="prefix"/> in part order: the unsuffixed key first, then by suffix.</summary>
    private static string[] PartKeys(InMemoryS3 s3, string prefix = "p/") =>
    [
        .. s3.Keys(Bucket, prefix).OrderBy(k =>
        {
            string name = k[(k.LastIndexOf('/') + 1)..];
            string stem = name[..name.IndexOf('.', StringComparison.Ordinal)];
            int dash = stem.LastIndexOf('-');
            return dash < 0 ? 0 : int.Parse(stem[(dash + 1)..], CultureInfo.InvariantCulture);
        }),
    ];

    private static byte[] Body(InMemoryS3 s3, string key)
    {
        Assert.True(s3.TryGet(Bucket, key, out byte[] body, out _), key);
        return body;
    }

    private static void AssertSizes(byte[][] bodies, int max = Max)
    {
        Assert.All(bodies, b => Assert.True(b.Length <= max, $"{b.Length} bytes, above {max}"));
        Assert.All(bodies.SkipLast(1), b => Assert.True(b.Length * 10L >= max * 9L, $"{b.Length} bytes, below 90% of {max}"));
    }

    private static byte[] Decompress(byte[] body, string compression)
    {
        switch (compression)
        {
            case "gzip":
                using (var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress))
                using (var copy = new MemoryStream())
                {
                    gzip.CopyTo(copy);
                    return copy.ToArray();
                }

            case "zstd":
                using (var decompressor = new Decompressor())
                {
                    return decompressor.Unwrap(body).ToArray();
                }

            default:
                return body;
        }
    }
}

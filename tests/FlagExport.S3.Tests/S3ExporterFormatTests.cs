using System.IO.Compression;
using Amazon.S3;
using Microsoft.Extensions.Time.Testing;
using ParquetSharp;
using ZstdSharp;

namespace FlagExport.S3.Tests;

/// <summary>Each format and compression, uploaded to the real server and read back.</summary>
public sealed class S3ExporterFormatTests
{
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Theory]
    [InlineData("JSON", "json", "application/x-ndjson")]
    [InlineData("CSV", "csv", "text/csv")]
    [InlineData("Parquet", "parquet", "application/vnd.apache.parquet")]
    public async Task ExportAsync_EachFormat_ObjectIsByteForByteTheLocalFileWithItsContentType(string format, string extension, string contentType)
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix($"format-{extension}");
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix, Format = format, Filename = "batch-{{ .Timestamp}}.{{ .Format}}" };
        FeatureEvent[] events = ObjectStoreEvents.Create(500, extension);
        using var exporter = new S3Exporter(options, s3, timeProvider: new FakeTimeProvider(FlushTime));

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        string key = $"{prefix}batch-1617970800.{extension}";
        Assert.Equal([key], await S3Read.KeysAsync(s3, server.Bucket, prefix));
        (byte[] body, var response) = await S3Read.GetAsync(s3, server.Bucket, key);
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), body);
        Assert.Equal(contentType, response.Headers.ContentType);
        Assert.Null(response.Headers.ContentEncoding);
    }

    [Fact]
    public async Task ExportAsync_Parquet_ObjectReadsBackWithParquetSharp()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix("parquet-reader");
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix, Format = "parquet", ParquetCompressionCodec = "ZSTD" };
        FeatureEvent[] events = ObjectStoreEvents.Create(1000, "pq");
        using var exporter = new S3Exporter(options, s3);

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        string key = Assert.Single(await S3Read.KeysAsync(s3, server.Bucket, prefix));
        (byte[] body, _) = await S3Read.GetAsync(s3, server.Bucket, key);
        using var stream = new MemoryStream(body, writable: false);
        using var reader = new ParquetFileReader(stream, leaveOpen: true);
        Assert.Equal(1000, reader.FileMetaData.NumRows);
        using RowGroupReader rowGroup = reader.RowGroup(0);
        int userKeyColumn = Enumerable.Range(0, reader.FileMetaData.NumColumns).Single(i => reader.FileMetaData.Schema.Column(i).Name == "userKey");
        using ColumnReader column = rowGroup.Column(userKeyColumn);
        Assert.Equal(events.Select(e => e.UserKey), column.LogicalReader<string>().ReadAll(1000));
        Assert.Equal(Compression.Zstd, rowGroup.MetaData.GetColumnChunkMetaData(userKeyColumn).Compression);
    }

    [Theory]
    [InlineData("JSON", "json")]
    [InlineData("Parquet", "parquet")]
    public async Task ExportAsync_TrackingEvents_ObjectIsByteForByteTheLocalFile(string format, string extension)
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix($"tracking-{extension}");
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix, Format = format };
        TrackingEvent[] events =
        [
            .. Enumerable.Range(0, 50).Select(i => new TrackingEvent
            {
                UserKey = $"u{i}", Key = "checkout", CreationDate = 1617970547 + i,
                EvaluationContext = new Dictionary<string, FlagValue> { ["plan"] = "pro" },
                TrackingEventDetails = new Dictionary<string, FlagValue> { ["amount"] = i * 1.5 },
            }),
        ];
        using var exporter = new S3Exporter(options, s3, EventType.Tracking);

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        string key = Assert.Single(await S3Read.KeysAsync(s3, server.Bucket, prefix));
        Assert.EndsWith($".{extension}", key, StringComparison.Ordinal);
        string folder = Path.Combine(Path.GetTempPath(), "flagexport-s3-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await new FileExporter(new FileExporterOptions { OutputDir = folder, Format = format }, EventType.Tracking).ExportAsync(events, TestContext.Current.CancellationToken);
            Assert.Equal(await File.ReadAllBytesAsync(Directory.GetFiles(folder).Single(), TestContext.Current.CancellationToken), (await S3Read.GetAsync(s3, server.Bucket, key)).Body);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("JSON", "gzip", ".json.gz")]
    [InlineData("CSV", "gzip", ".csv.gz")]
    [InlineData("JSON", "zstd", ".json.zst")]
    [InlineData("CSV", "ZSTD", ".csv.zst")]
    public async Task ExportAsync_Compressed_ObjectDecompressesToTheLocalBytesWithContentEncoding(string format, string compression, string suffix)
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix($"compressed-{compression.ToLowerInvariant()}");
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix, Format = format, Compression = compression, Filename = "batch-{{ .Timestamp}}.{{ .Format}}" };
        FeatureEvent[] events = ObjectStoreEvents.Create(2000, "z");
        using var exporter = new S3Exporter(options, s3, timeProvider: new FakeTimeProvider(FlushTime));

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        string key = $"{prefix}batch-1617970800{suffix}";
        Assert.Equal([key], await S3Read.KeysAsync(s3, server.Bucket, prefix));
        (byte[] body, var response) = await S3Read.GetAsync(s3, server.Bucket, key);
        byte[] expected = await ObjectStoreEvents.LocalBytesAsync(options, events);
        Assert.True(body.Length < expected.Length / 3, $"{body.Length} compressed bytes for {expected.Length}");
        Assert.Equal(expected, Decompress(compression, body));
        Assert.Equal(compression.ToLowerInvariant(), response.Headers.ContentEncoding);
        Assert.Equal(format == "CSV" ? "text/csv" : "application/x-ndjson", response.Headers.ContentType);
    }

    private static byte[] Decompress(string compression, byte[] body)
    {
        if (compression.Equals("zstd", StringComparison.OrdinalIgnoreCase))
        {
            using var decompressor = new Decompressor();
            return decompressor.Unwrap(body).ToArray();
        }

        using var input = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}

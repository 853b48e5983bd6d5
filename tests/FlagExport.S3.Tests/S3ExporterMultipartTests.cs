using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using FlagExport.S3.Tests.Support;

namespace FlagExport.S3.Tests;

/// <summary>Batches above the multipart threshold: split into parts, sent concurrently, aborted on failure.</summary>
public sealed class S3ExporterMultipartTests
{
    /// <summary>About 192 bytes of JSON each: 280,000 events are a little over 50 MiB.</summary>
    private const int FiftyMiBOfEvents = 280_000;

    [Fact]
    public async Task ExportAsync_FiftyMiBBatchAboveTheThreshold_GoesMultipartAndReadsBackIdentical()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig());
        string prefix = S3TestServer.NewPrefix("multipart");
        // Above the threshold (the default, 64 MiB, would take a 50 MiB batch in one PutObject), default part size and concurrency.
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix, Filename = "big.{{ .Format}}", MultipartThreshold = 32L * 1024 * 1024 };
        FeatureEvent[] events = ObjectStoreEvents.Create(FiftyMiBOfEvents, "big");
        byte[] expected = await ObjectStoreEvents.LocalBytesAsync(options, events);
        Assert.InRange(expected.Length, 50L * 1024 * 1024, 60L * 1024 * 1024);
        using var exporter = new S3Exporter(options, s3);

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        int parts = (int)((expected.Length + S3ExporterOptions.DefaultMultipartPartSize - 1) / S3ExporterOptions.DefaultMultipartPartSize);
        S3Object written = Assert.Single(await S3Read.ListAsync(s3, server.Bucket, prefix));
        Assert.EndsWith($"-{parts}\"", written.ETag, StringComparison.Ordinal); // S3's multipart ETag: md5-of-md5s "-N"
        Assert.Equal((0, parts, 1), (s3.PutCalls, s3.PartCalls, s3.CompleteCalls));
        Assert.InRange(s3.MaxPartsInFlight, 2, S3ExporterOptions.DefaultMultipartConcurrency); // concurrent, and bounded
        (byte[] body, GetObjectResponse response) = await S3Read.GetAsync(s3, server.Bucket, written.Key);
        Assert.Equal(SHA256.HashData(expected), SHA256.HashData(body));
        Assert.Equal("application/x-ndjson", response.Headers.ContentType);
        _ = await s3.DeleteObjectAsync(server.Bucket, written.Key, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task ExportAsync_PartFails_UploadIsAbortedAndNothingLingers()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig()) { FailPart = { 2 } };
        string prefix = S3TestServer.NewPrefix("multipart-abort");
        var options = new S3ExporterOptions
        {
            Bucket = server.Bucket, S3Path = prefix, MultipartThreshold = S3ExporterOptions.MinMultipartPartSize, MultipartPartSize = S3ExporterOptions.MinMultipartPartSize,
        };
        using var exporter = new S3Exporter(options, s3);
        FeatureEvent[] events = ObjectStoreEvents.Create(60_000, "abort"); // ~11 MiB: 3 parts of 5 MiB

        var failure = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(events, TestContext.Current.CancellationToken));

        Assert.Contains($"s3://{server.Bucket}/{prefix}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("part 2 failed", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, s3.CompleteCalls);
        ListMultipartUploadsResponse uploads = await s3.ListMultipartUploadsAsync(
            new ListMultipartUploadsRequest { BucketName = server.Bucket, Prefix = prefix }, TestContext.Current.CancellationToken);
        Assert.Empty(uploads.MultipartUploads ?? []);
        Assert.Empty(await S3Read.KeysAsync(s3, server.Bucket, prefix));

        s3.FailPart.Clear();
        await exporter.ExportAsync(events, TestContext.Current.CancellationToken); // the pipeline's retry succeeds
        Assert.Single(await S3Read.KeysAsync(s3, server.Bucket, prefix));
    }

    [Fact]
    public async Task ExportAsync_RetryAfterTheCompleteAnswerWasLost_DoesNotWriteTheObjectTwice()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig()) { LoseCompleteAnswer = { 1 } };
        string prefix = S3TestServer.NewPrefix("multipart-lost");
        var options = new S3ExporterOptions
        {
            Bucket = server.Bucket, S3Path = prefix, MultipartThreshold = S3ExporterOptions.MinMultipartPartSize, MultipartPartSize = S3ExporterOptions.MinMultipartPartSize,
        };
        using var exporter = new S3Exporter(options, s3);
        FeatureEvent[] events = ObjectStoreEvents.Create(30_000, "lost"); // ~5.5 MiB: 2 parts
        var batch = new ExportBatch(events);

        _ = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken); // the pipeline's retry

        S3Object written = Assert.Single(await S3Read.ListAsync(s3, server.Bucket, prefix));
        Assert.Equal(1, s3.CompleteCalls); // the retry found its own object (write id) instead of uploading it again
        Assert.Equal(SHA256.HashData(await ObjectStoreEvents.LocalBytesAsync(options, events)), SHA256.HashData((await S3Read.GetAsync(s3, server.Bucket, written.Key)).Body));
    }

    [Fact]
    public async Task ExportAsync_MultipartOntoATakenName_KeepsTheExistingObject()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix("multipart-taken");
        var options = new S3ExporterOptions
        {
            Bucket = server.Bucket, S3Path = prefix, Filename = "batch.{{ .Format}}",
            MultipartThreshold = S3ExporterOptions.MinMultipartPartSize, MultipartPartSize = S3ExporterOptions.MinMultipartPartSize,
        };
        using var small = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } }; // two processes
        using var large = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        await small.ExportAsync(ObjectStoreEvents.Create(1, "small"), TestContext.Current.CancellationToken);

        await large.ExportAsync(ObjectStoreEvents.Create(30_000, "large"), TestContext.Current.CancellationToken); // ~5.5 MiB: 2 parts

        Assert.Equal([$"{prefix}batch-1.json", $"{prefix}batch.json"], await S3Read.KeysAsync(s3, server.Bucket, prefix));
        Assert.Contains("small-0000000", System.Text.Encoding.UTF8.GetString((await S3Read.GetAsync(s3, server.Bucket, $"{prefix}batch.json")).Body), StringComparison.Ordinal);
    }
}

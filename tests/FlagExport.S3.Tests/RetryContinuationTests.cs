using System.Net;
using FlagExport.S3.Tests.Support;

namespace FlagExport.S3.Tests;

/// <summary>A retry after a lost answer finds its own earlier object by its write id and writes nothing twice (in-memory S3).</summary>
public sealed class RetryContinuationTests
{
    private const string Bucket = "in-memory-bucket";

    [Fact]
    public async Task ExportAsync_RetryAfterThePutAnswerWasLost_DoesNotWriteTheObjectTwice()
    {
        using var s3 = new InMemoryS3(Bucket);
        _ = s3.CommitThenFail("PutObject", 1, InMemoryS3.NetworkError());
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = Bucket, S3Path = "p/" }, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        FeatureEvent[] events = ObjectStoreEvents.Create(5, "lost");
        var batch = new ExportBatch(events);

        var failure = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        Assert.Contains("network error", failure.Message, StringComparison.Ordinal);
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken); // the pipeline's retry: same batch

        string key = Assert.Single(s3.Keys(Bucket));
        Assert.True(s3.TryGet(Bucket, key, out byte[] body, out IReadOnlyDictionary<string, string> metadata));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(new S3ExporterOptions(), events), body);
        Assert.True(metadata.ContainsKey(S3ObjectWriter.WriteIdMetadataKey));
    }

    [Fact]
    public async Task ExportAsync_RetryAfterTheCompleteAnswerWasLost_DoesNotWriteTheObjectTwice()
    {
        using var s3 = new InMemoryS3(Bucket);
        _ = s3.CommitThenFail("CompleteMultipartUpload", 1, InMemoryS3.NetworkError());
        S3ExporterOptions options = KeyCollisionTests.MultipartOptions();
        using var exporter = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        FeatureEvent[] events = ObjectStoreEvents.Create(30_000, "lost"); // ~5.5 MiB: 2 parts
        var batch = new ExportBatch(events);

        _ = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(["p/batch.json"], s3.Keys(Bucket));
        Assert.True(s3.TryGet(Bucket, "p/batch.json", out byte[] body, out _));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), body);
        Assert.Equal(1, s3.Calls.Count(c => c.StartsWith("CompleteMultipartUpload ", StringComparison.Ordinal)));
        Assert.Equal(0, s3.OpenUploads);
    }

    [Fact]
    public async Task ExportAsync_RetryWhoseLookFailsWithSlowDown_FailsAgainAndTheNextRetryStillWritesOnce()
    {
        // The look at the taken key answers 503: the exporter must not take the object for another writer's.
        using var s3 = new InMemoryS3(Bucket);
        _ = s3.CommitThenFail("PutObject", 1, InMemoryS3.NetworkError());
        _ = s3.Fail("HeadObject", 1, InMemoryS3.Status(HttpStatusCode.ServiceUnavailable, "SlowDown"));
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = Bucket, S3Path = "p/" }, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        var batch = new ExportBatch(ObjectStoreEvents.Create(5, "slow"));

        _ = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        S3ExportException lookFailed = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        Assert.Contains("write id could not be read", lookFailed.Message, StringComparison.Ordinal);
        Assert.Single(s3.Keys(Bucket)); // not written again under the next name
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

        _ = Assert.Single(s3.Keys(Bucket));
    }
}

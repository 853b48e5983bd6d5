using System.Net;
using FlagExport.S3.Tests.Support;

namespace FlagExport.S3.Tests;

/// <summary>A failed multipart upload is aborted, leaves nothing behind, and its retry succeeds (in-memory S3).</summary>
public sealed class MultipartAbortTests
{
    private const string Bucket = "in-memory-bucket";

    [Theory]
    [InlineData("UploadPart", 2)]
    [InlineData("CompleteMultipartUpload", 1)]
    public async Task ExportAsync_MultipartCallFails_UploadIsAbortedAndTheRetrySucceeds(string operation, int call)
    {
        using var s3 = new InMemoryS3(Bucket);
        _ = s3.Fail(operation, call, InMemoryS3.Status(HttpStatusCode.InternalServerError, "InternalError"));
        S3ExporterOptions options = KeyCollisionTests.MultipartOptions();
        using var exporter = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        FeatureEvent[] events = ObjectStoreEvents.Create(60_000, "abort"); // ~11 MiB: 3 parts of 5 MiB
        var batch = new ExportBatch(events);

        var failure = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));

        Assert.Contains($"s3://{Bucket}/p/", failure.Message, StringComparison.Ordinal);
        Assert.Contains("AbortMultipartUpload p/batch.json", s3.Calls);
        Assert.Equal(0, s3.OpenUploads);
        Assert.Empty(s3.Keys(Bucket));

        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken); // the pipeline's retry: same batch, same key
        Assert.Equal(["p/batch.json"], s3.Keys(Bucket));
        Assert.True(s3.TryGet(Bucket, "p/batch.json", out byte[] body, out _));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), body);
    }

    [Fact]
    public async Task ExportAsync_InitiateFails_NothingToAbortAndNothingWritten()
    {
        using var s3 = new InMemoryS3(Bucket);
        _ = s3.Fail("InitiateMultipartUpload", 1, InMemoryS3.NetworkError());
        using var exporter = new S3Exporter(KeyCollisionTests.MultipartOptions(), s3) { Writer = { Reservations = new ObjectNameReservations() } };

        _ = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(30_000, "init"), TestContext.Current.CancellationToken));

        Assert.DoesNotContain(s3.Calls, c => c.StartsWith("UploadPart ", StringComparison.Ordinal) || c.StartsWith("AbortMultipartUpload ", StringComparison.Ordinal));
        Assert.Empty(s3.Keys(Bucket));
        Assert.Equal(0, s3.OpenUploads);
    }
}

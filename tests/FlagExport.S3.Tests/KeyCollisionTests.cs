using System.Text;
using FlagExport.S3.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.S3.Tests;

/// <summary>The exporter never overwrites: a taken key gets the next suffix (in-memory S3, runs everywhere).</summary>
public sealed class KeyCollisionTests
{
    private const string Bucket = "in-memory-bucket";
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Fact]
    public async Task ExportAsync_TwoFlushesInOneSecond_WriteTwoObjects()
    {
        using var s3 = new InMemoryS3(Bucket);
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = Bucket, S3Path = "p/" }, s3, timeProvider: new FakeTimeProvider(FlushTime)) { Writer = { Reservations = new ObjectNameReservations() } };

        await exporter.ExportAsync(ObjectStoreEvents.Create(3, "first"), TestContext.Current.CancellationToken);
        await exporter.ExportAsync(ObjectStoreEvents.Create(3, "second"), TestContext.Current.CancellationToken);

        string name = $"p/flag-variation-{Environment.MachineName}-1617970800";
        Assert.Equal([$"{name}-1.json", $"{name}.json"], s3.Keys(Bucket));
        Assert.Contains("first-0000000", Body(s3, $"{name}.json"), StringComparison.Ordinal);
        Assert.Contains("second-0000000", Body(s3, $"{name}-1.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportAsync_AnotherWriterTookTheName_ServerRefusesTheOverwriteAndTheNextNameIsUsed()
    {
        // Two exporters with their own name memories stand for two processes: only If-None-Match stops the overwrite.
        using var s3 = new InMemoryS3(Bucket);
        var options = new S3ExporterOptions { Bucket = Bucket, S3Path = "p/", Filename = "batch.{{ .Format}}" };
        using var first = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        using var second = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };

        await first.ExportAsync(ObjectStoreEvents.Create(2, "first"), TestContext.Current.CancellationToken);
        await second.ExportAsync(ObjectStoreEvents.Create(2, "second"), TestContext.Current.CancellationToken);
        await second.ExportAsync(ObjectStoreEvents.Create(2, "third"), TestContext.Current.CancellationToken);

        Assert.Equal(["p/batch-1.json", "p/batch-2.json", "p/batch.json"], s3.Keys(Bucket));
        Assert.Contains("first-", Body(s3, "p/batch.json"), StringComparison.Ordinal);
        Assert.Contains("second-", Body(s3, "p/batch-1.json"), StringComparison.Ordinal);
        Assert.Contains("third-", Body(s3, "p/batch-2.json"), StringComparison.Ordinal);
        Assert.Equal(4, s3.Calls.Count(c => c.StartsWith("PutObject ", StringComparison.Ordinal))); // first; second refused then -1; third straight to -2
    }

    [Fact]
    public async Task ExportAsync_MultipartOntoATakenName_KeepsTheExistingObject()
    {
        using var s3 = new InMemoryS3(Bucket);
        S3ExporterOptions options = MultipartOptions();
        using var small = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } }; // two processes
        using var large = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        await small.ExportAsync(ObjectStoreEvents.Create(1, "small"), TestContext.Current.CancellationToken);

        await large.ExportAsync(ObjectStoreEvents.Create(30_000, "large"), TestContext.Current.CancellationToken); // ~5.5 MiB: 2 parts

        Assert.Equal(["p/batch-1.json", "p/batch.json"], s3.Keys(Bucket));
        Assert.Contains("small-0000000", Body(s3, "p/batch.json"), StringComparison.Ordinal);
        Assert.Contains("large-0000000", Body(s3, "p/batch-1.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportAsync_AnotherWriterTakesTheNameDuringTheMultipartUpload_CompletionIsRefusedAndTheNextNameIsUsed()
    {
        // The window the look before the upload cannot close: only If-None-Match on CompleteMultipartUpload does.
        using var s3 = new InMemoryS3(Bucket);
        _ = s3.WriteBefore("CompleteMultipartUpload", 1, Bucket, "p/batch.json", Encoding.UTF8.GetBytes("other writer"));
        using var exporter = new S3Exporter(MultipartOptions(), s3) { Writer = { Reservations = new ObjectNameReservations() } };
        FeatureEvent[] events = ObjectStoreEvents.Create(30_000, "large");

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        Assert.Equal(["p/batch-1.json", "p/batch.json"], s3.Keys(Bucket));
        Assert.Equal("other writer", Body(s3, "p/batch.json"));
        Assert.True(s3.TryGet(Bucket, "p/batch-1.json", out byte[] written, out _));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(MultipartOptions(), events), written);
        Assert.Equal(0, s3.OpenUploads); // the refused upload was aborted
    }

    internal static S3ExporterOptions MultipartOptions() => new()
    {
        Bucket = Bucket, S3Path = "p/", Filename = "batch.{{ .Format}}",
        MultipartThreshold = S3ExporterOptions.MinMultipartPartSize, MultipartPartSize = S3ExporterOptions.MinMultipartPartSize,
    };

    private static string Body(InMemoryS3 s3, string key) =>
        s3.TryGet(Bucket, key, out byte[] body, out _) ? Encoding.UTF8.GetString(body) : throw new KeyNotFoundException(key);
}

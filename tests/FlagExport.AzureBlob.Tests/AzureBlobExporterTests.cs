using System.IO.Compression;
using System.Text;
using FlagExport.AzureBlob.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using ZstdSharp;

namespace FlagExport.AzureBlob.Tests;

/// <summary>The exporter against the in-memory container: names, bytes, headers, taken names, retries (runs everywhere).</summary>
public sealed class AzureBlobExporterTests
{
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Theory]
    [InlineData("JSON", "json", "application/x-ndjson")]
    [InlineData("CSV", "csv", "text/csv")]
    [InlineData("Parquet", "parquet", "application/vnd.apache.parquet")]
    public async Task ExportAsync_EachFormat_BlobIsByteForByteTheLocalFileWithItsContentTypeAndWriteId(string format, string extension, string contentType)
    {
        var container = new InMemoryBlobContainer();
        var options = new AzureBlobExporterOptions { Container = "events", Path = "p/", Format = format, Filename = "batch-{{ .Timestamp}}.{{ .Format}}" };
        FeatureEvent[] events = ObjectStoreEvents.Create(200, extension);
        var batch = new ExportBatch(events);
        using AzureBlobExporter exporter = Create(options, container);

        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

        string name = $"p/batch-1617970800.{extension}";
        Assert.Equal([name], container.Names());
        StoredBlob blob = container.Get(name);
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), blob.Content);
        Assert.Equal(new BlobContent(contentType, null), blob.Headers);
        Assert.Equal(batch.Id, blob.WriteId);
    }

    [Theory]
    [InlineData("gzip", ".gz")]
    [InlineData("zstd", ".zst")]
    public async Task ExportAsync_Compression_NameExtensionContentEncodingAndBytesThatDecompressToTheLocalFile(string compression, string extension)
    {
        var container = new InMemoryBlobContainer();
        var options = new AzureBlobExporterOptions { Container = "events", Filename = "batch.{{ .Format}}", Compression = compression };
        FeatureEvent[] events = ObjectStoreEvents.Create(500, compression);
        using AzureBlobExporter exporter = Create(options, container);

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        StoredBlob blob = container.Get("batch.json" + extension);
        Assert.Equal(compression, blob.Headers.ContentEncoding);
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), Decompress(blob.Content, compression));
    }

    [Fact]
    public async Task ExportAsync_TwoFlushesInOneSecond_SecondGetsTheNextSuffix()
    {
        var container = new InMemoryBlobContainer();
        using AzureBlobExporter exporter = Create(new AzureBlobExporterOptions { Container = "events", Path = "p/" }, container);

        await exporter.ExportAsync(ObjectStoreEvents.Create(3, "first"), TestContext.Current.CancellationToken);
        await exporter.ExportAsync(ObjectStoreEvents.Create(3, "second"), TestContext.Current.CancellationToken);

        string name = $"p/flag-variation-{Environment.MachineName}-1617970800";
        Assert.Equal([$"{name}-1.json", $"{name}.json"], container.Names());
        Assert.Contains("first-0000000", Text(container, $"{name}.json"), StringComparison.Ordinal);
        Assert.Contains("second-0000000", Text(container, $"{name}-1.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportAsync_AnotherWriterTookTheName_ItsBlobIsKeptAndTheNextNameIsUsed()
    {
        // Two exporters with their own name memories stand for two processes: only If-None-Match stops the overwrite.
        var container = new InMemoryBlobContainer();
        var options = new AzureBlobExporterOptions { Container = "events", Filename = "batch.{{ .Format}}" };
        using AzureBlobExporter first = Create(options, container);
        using AzureBlobExporter second = Create(options, container);

        await first.ExportAsync(ObjectStoreEvents.Create(2, "first"), TestContext.Current.CancellationToken);
        await second.ExportAsync(ObjectStoreEvents.Create(2, "second"), TestContext.Current.CancellationToken);

        Assert.Equal(["batch-1.json", "batch.json"], container.Names());
        Assert.Contains("first-", Text(container, "batch.json"), StringComparison.Ordinal);
        Assert.Contains("second-", Text(container, "batch-1.json"), StringComparison.Ordinal);
        Assert.Equal(["Create batch.json", "Create batch.json", "GetProperties batch.json", "Create batch-1.json"], container.Calls);
    }

    [Fact]
    public async Task ExportAsync_RetryAfterTheAnswerWasLost_RecognisesItsBlobByWriteIdAndWritesNothingNew()
    {
        var container = new InMemoryBlobContainer();
        container.CommitThenFail("Create", 1, InMemoryBlobContainer.NetworkError());
        var options = new AzureBlobExporterOptions { Container = "events", Filename = "batch.{{ .Format}}" };
        FeatureEvent[] events = ObjectStoreEvents.Create(5, "lost");
        var batch = new ExportBatch(events);
        using AzureBlobExporter exporter = Create(options, container);

        var failure = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        Assert.False(failure.IsPermanent);
        Assert.Contains("blob 'batch.json' in container 'events'", failure.Message, StringComparison.Ordinal);
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken); // the pipeline's retry: same batch

        Assert.Equal(["batch.json"], container.Names());
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), container.Get("batch.json").Content);
        Assert.Equal(2, container.Calls.Count(c => c.StartsWith("Create ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ExportAsync_RestartAfterTheAnswerWasLost_TheRecordedNameAndWriteIdFindTheBlob()
    {
        // A new process (no name memory, no partial state) retries from the durable buffer's records.
        var container = new InMemoryBlobContainer();
        container.CommitThenFail("Create", 1, InMemoryBlobContainer.NetworkError());
        var options = new AzureBlobExporterOptions { Container = "events", Filename = "batch-{{ .Timestamp}}.{{ .Format}}" };
        FeatureEvent[] events = ObjectStoreEvents.Create(5, "restart");
        var records = new RestartableRecords("restart", events.Length);
        var clock = new FakeTimeProvider(FlushTime);
        using (AzureBlobExporter before = Create(options, container, clock))
        {
            _ = await Assert.ThrowsAsync<AzureBlobExportException>(() => before.ExportAsync(new ExportBatch(events, records.State, 1), TestContext.Current.CancellationToken));
        }

        records.Restart();
        clock.Advance(TimeSpan.FromMinutes(5)); // a later timestamp: only the recorded name finds the blob
        using (AzureBlobExporter after = Create(options, container, clock))
        {
            await after.ExportAsync(new ExportBatch(events, records.State, 2), TestContext.Current.CancellationToken);
        }

        Assert.Equal(["batch-1617970800.json"], container.Names());
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), container.Get("batch-1617970800.json").Content);
    }

    [Fact]
    public async Task ExportAsync_RetryWhoseLookFails_FailsAgainWithoutTakingTheNextNameThenWritesOnce()
    {
        // The look at the taken name answers 503: the exporter must not take the blob for another writer's.
        var container = new InMemoryBlobContainer();
        container.CommitThenFail("Create", 1, InMemoryBlobContainer.NetworkError());
        container.Fail("GetProperties", 1, InMemoryBlobContainer.Status(503, "ServerBusy"));
        using AzureBlobExporter exporter = Create(new AzureBlobExporterOptions { Container = "events" }, container);
        var batch = new ExportBatch(ObjectStoreEvents.Create(5, "busy"));

        _ = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        var lookFailed = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        Assert.Contains("write id could not be read", lookFailed.Message, StringComparison.Ordinal);
        Assert.False(lookFailed.IsPermanent);
        _ = Assert.Single(container.Names());
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

        _ = Assert.Single(container.Names());
    }

    [Fact]
    public async Task ExportAsync_PathWithHourFields_OneBlobPerHourUnderHivePartitions()
    {
        var container = new InMemoryBlobContainer();
        var options = new AzureBlobExporterOptions
        {
            Container = "events", Path = "flags/dt={{ .Year}}-{{ .Month}}-{{ .Day}}/hour={{ .Hour}}/", Filename = "batch.{{ .Format}}",
        };
        FeatureEvent[] twelve = ObjectStoreEvents.Create(3, "twelve");
        FeatureEvent[] thirteen = ObjectStoreEvents.Create(2, "thirteen", ObjectStoreEvents.CreationDate + 3600);
        using AzureBlobExporter exporter = Create(options, container);

        await exporter.ExportAsync([.. twelve, .. thirteen], TestContext.Current.CancellationToken);

        Assert.Equal(["flags/dt=2021-04-09/hour=12/batch.json", "flags/dt=2021-04-09/hour=13/batch.json"], container.Names());
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, twelve), container.Get("flags/dt=2021-04-09/hour=12/batch.json").Content);
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, thirteen), container.Get("flags/dt=2021-04-09/hour=13/batch.json").Content);
    }

    [Fact]
    public async Task ExportAsync_AboveMaxBatchBytes_BlobsWithinTheBoundUnderTheNextSuffixesThatConcatenateToTheBatch()
    {
        const int Max = 16 * 1024;
        var container = new InMemoryBlobContainer();
        var options = new AzureBlobExporterOptions { Container = "events", Filename = "batch.{{ .Format}}", MaxBatchBytes = Max };
        FeatureEvent[] events = ObjectStoreEvents.Create(1_000, "bytes");
        using AzureBlobExporter exporter = Create(options, container);

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        string[] names = [.. container.Names().OrderBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal)];
        Assert.True(names.Length >= 3, $"{names.Length} blobs");
        Assert.Equal(["batch.json", .. Enumerable.Range(1, names.Length - 1).Select(i => $"batch-{i}.json")], names);
        Assert.All(names, n => Assert.InRange(container.Get(n).Content.Length, 1, Max));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), names.SelectMany(n => container.Get(n).Content).ToArray());
    }

    [Fact]
    public async Task ExportAsync_ContainerDoesNotExist_PermanentFailureNamingTheContainer()
    {
        var container = new InMemoryBlobContainer { Exists = false };
        using AzureBlobExporter exporter = Create(new AzureBlobExporterOptions { Container = "events" }, container);

        var failure = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(1, "x"), TestContext.Current.CancellationToken));

        Assert.True(failure.IsPermanent);
        Assert.Equal("ContainerNotFound", failure.ErrorCode);
        Assert.Equal(404, failure.Status);
        Assert.Contains("the container does not exist", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyContainerAsync_MissingContainer_ThrowsPermanentNamingIt()
    {
        var container = new InMemoryBlobContainer("in-memory-container") { Exists = false };
        using AzureBlobExporter exporter = Create(new AzureBlobExporterOptions { Container = "events" }, container);

        var failure = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.VerifyContainerAsync(TestContext.Current.CancellationToken));

        Assert.True(failure.IsPermanent);
        Assert.StartsWith("Blob container 'events' at http://in-memory.blob.test/ cannot be used: the container does not exist", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportAsync_ServerBusy_TransientFailure()
    {
        var container = new InMemoryBlobContainer();
        container.Fail("Create", 1, InMemoryBlobContainer.Status(503, "ServerBusy"));
        using AzureBlobExporter exporter = Create(new AzureBlobExporterOptions { Container = "events" }, container);

        var failure = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(1, "x"), TestContext.Current.CancellationToken));

        Assert.False(failure.IsPermanent);
        Assert.Empty(container.Names());
    }

    internal static AzureBlobExporter Create(AzureBlobExporterOptions options, IBlobContainer container, TimeProvider? clock = null) =>
        new(options, container, _ => null, EventType.Feature, clock ?? new FakeTimeProvider(FlushTime), logger: null) { Writer = { Reservations = new ObjectNameReservations() } };

    private static string Text(InMemoryBlobContainer container, string name) => Encoding.UTF8.GetString(container.Get(name).Content);

    private static byte[] Decompress(byte[] content, string compression)
    {
        if (compression == "zstd")
        {
            using var decompressor = new Decompressor();
            return decompressor.Unwrap(content).ToArray();
        }

        using var gzip = new GZipStream(new MemoryStream(content), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }
}

using System.IO.Compression;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Exporters.ObjectStore;

/// <summary>
/// <see cref="ObjectStoreWriter"/> over an in-memory store: which names a batch's objects get, how a retry finds what an
/// earlier attempt wrote, and where the suffixes end.
/// </summary>
public sealed class ObjectStoreWriterTests
{
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);
    private readonly InMemoryObjectStore _store = new();

    [Fact]
    public async Task ExportAsync_TwoBatchesInTheSameSecond_TakeTheNameThenItsFirstSuffix()
    {
        using ObjectStoreWriter writer = Writer(_store);

        await writer.ExportAsync(new ExportBatch(PartTestEvents.Create(3)), TestContext.Current.CancellationToken);
        await writer.ExportAsync(new ExportBatch(PartTestEvents.Create(4)), TestContext.Current.CancellationToken);

        Assert.Equal(["out/batch-1617970800-1.json", "out/batch-1617970800.json"], _store.Names());
        Assert.Equal(["create out/batch-1617970800.json", "create out/batch-1617970800-1.json"], _store.Calls);
    }

    [Fact]
    public async Task ExportAsync_BatchAboveMaxBatchBytes_PartsTakeRisingSuffixesRecordedBeforeEachCreate()
    {
        using ObjectStoreWriter writer = Writer(_store, maxBatchBytes: 64 * 1024);
        var batch = new ExportBatch(PartTestEvents.Create(2_000));

        await writer.ExportAsync(batch, TestContext.Current.CancellationToken);

        string[] created = [.. _store.Calls.Select(c => c["create ".Length..])];
        Assert.True(created.Length >= 3, $"{created.Length} objects");
        Assert.Equal(["out/batch-1617970800.json", .. Enumerable.Range(1, created.Length - 1).Select(i => $"out/batch-1617970800-{i}.json")], created);
        Assert.Equal("0", batch.GetRecorded("export.suffix.0:out/"));
        Assert.Equal("2", batch.GetRecorded("export.suffix.2:out/"));
    }

    [Fact]
    public async Task ExportAsync_NameTakenByAnotherWriter_SkipsItToTheNextSuffixAndRecordsThat()
    {
        _store.Put("out/batch-1617970800.json", writeId: "someone-else");
        using ObjectStoreWriter writer = Writer(_store);
        var batch = new ExportBatch(PartTestEvents.Create(3));

        await writer.ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(
            ["create out/batch-1617970800.json", "read out/batch-1617970800.json", "taken out/batch-1617970800.json", "create out/batch-1617970800-1.json"],
            _store.Calls);
        Assert.Empty(_store.Content("out/batch-1617970800.json")); // not replaced
        Assert.Equal("1", batch.GetRecorded("export.suffix.0:out/"));
    }

    [Fact]
    public async Task ExportAsync_RetryAfterTheAnswerWasLost_RecognisesItsObjectByWriteIdAndWritesNothingNew()
    {
        using ObjectStoreWriter writer = Writer(_store);
        var batch = new ExportBatch(PartTestEvents.Create(3));
        _store.LoseNextAnswer();

        _ = await Assert.ThrowsAsync<IOException>(() => writer.ExportAsync(batch, TestContext.Current.CancellationToken));
        byte[] written = _store.Content("out/batch-1617970800.json");
        await writer.ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(["out/batch-1617970800.json"], _store.Names());
        Assert.Equal(written, _store.Content("out/batch-1617970800.json"));
        Assert.Equal(
            ["create out/batch-1617970800.json", "create out/batch-1617970800.json", "read out/batch-1617970800.json", "ours out/batch-1617970800.json"],
            _store.Calls);
    }

    [Fact]
    public async Task ExportAsync_RetryInANewProcess_WritesUnderTheRecordedNameNotTheFirstFreeOne()
    {
        FeatureEvent[] events = PartTestEvents.Create(3);
        var records = new RestartableRecords("batch-b", events.Length);
        using (ObjectStoreWriter first = Writer(_store))
        {
            await first.ExportAsync(new ExportBatch(PartTestEvents.Create(2)), TestContext.Current.CancellationToken); // takes the name
            _store.FailNextCreate();
            _ = await Assert.ThrowsAsync<IOException>(() => first.ExportAsync(new ExportBatch(events, records.State, attempt: 1), TestContext.Current.CancellationToken));
        }

        records.Restart();
        _store.Calls.Clear();
        using ObjectStoreWriter second = Writer(_store); // forgets the names given out, as a new process does
        await second.ExportAsync(new ExportBatch(events, records.State, attempt: 2), TestContext.Current.CancellationToken);

        Assert.Equal(["create out/batch-1617970800-1.json"], _store.Calls);
        Assert.Equal(["out/batch-1617970800-1.json", "out/batch-1617970800.json"], _store.Names());
    }

    [Fact]
    public async Task ExportAsync_EveryNameTaken_FailsPermanentlyNamingTheObjectAfterTheLastSuffix()
    {
        _store.EverythingTaken = true;
        using ObjectStoreWriter writer = Writer(_store);

        var failure = await Assert.ThrowsAnyAsync<IOException>(() => writer.ExportAsync(new ExportBatch(PartTestEvents.Create(3)), TestContext.Current.CancellationToken));

        Assert.True(Assert.IsAssignableFrom<IExportFailure>(failure).IsPermanent);
        Assert.Contains("'mem://store/out/batch-1617970800.json'", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"after {ExportFileEncoder.MaxSuffix} attempts", failure.Message, StringComparison.Ordinal);
        Assert.Equal($"create out/batch-1617970800-{ExportFileEncoder.MaxSuffix}.json", _store.Calls.Last(c => c.StartsWith("create ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ExportAsync_RetryAfterTheCompressionChanged_WritesTheNameAndBytesOfTheFirstAttempt()
    {
        FeatureEvent[] events = PartTestEvents.Create(3);
        var records = new RestartableRecords("batch-c", events.Length);
        using (ObjectStoreWriter gzip = Writer(_store, compression: "gzip"))
        {
            _store.FailNextCreate();
            _ = await Assert.ThrowsAsync<IOException>(() => gzip.ExportAsync(new ExportBatch(events, records.State, attempt: 1), TestContext.Current.CancellationToken));
        }

        records.Restart();
        using ObjectStoreWriter none = Writer(_store, compression: "none");
        await none.ExportAsync(new ExportBatch(events, records.State, attempt: 2), TestContext.Current.CancellationToken);

        Assert.Equal(["out/batch-1617970800.json.gz"], _store.Names());
        Assert.Equal("gzip", _store.ContentEncoding("out/batch-1617970800.json.gz"));
        using var unzip = new GZipStream(new MemoryStream(_store.Content("out/batch-1617970800.json.gz")), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        await unzip.CopyToAsync(plain, TestContext.Current.CancellationToken);
        Assert.Equal(await LocalBytesAsync(events), plain.ToArray());
    }

    private static ObjectStoreWriter Writer(InMemoryObjectStore store, int? maxBatchBytes = null, string compression = "none")
    {
        var options = new FileExporterOptions { Format = "JSON", Filename = "batch-{{ .Timestamp}}.{{ .Format}}", MaxBatchBytes = maxBatchBytes };
        var encoder = ExportFileEncoder.Create(options, EventType.Feature);
        var layout = ObjectLayout.Create(encoder, "out", "Path", compression, "Compression");
        return new ObjectStoreWriter(store, encoder, layout, new FakeTimeProvider(FlushTime)) { Reservations = new ObjectNameReservations() };
    }

    private static async Task<byte[]> LocalBytesAsync(IReadOnlyList<ExportableEvent> events)
    {
        using var encoder = ExportFileEncoder.Create(new FileExporterOptions { Format = "JSON" }, EventType.Feature);
        using PooledBufferWriter whole = await encoder.EncodeAsync(events, TestContext.Current.CancellationToken);
        return whole.WrittenSpan.ToArray();
    }
}

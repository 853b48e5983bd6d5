using System.Text.Json;
using FlagExport.Durability;
using FlagExport.Tests.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Pipeline;

/// <summary>What a batch costs is bounded whatever the events carry: batches are cut by bytes, and a batch that cannot be written leaves as a dead letter.</summary>
public sealed class BatchCostTests : IDisposable
{
    private readonly TempDirectory _folder = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));

    public void Dispose() => _folder.Dispose();

    private string Letters => Path.Combine(_folder.Path, "dead-letter");

    [Fact]
    public async Task Add_EventsWithALargeSharedMeta_BatchesAreCutByTheirEncodedBound_EachEventOnceInOrder()
    {
        var exporter = new EncodingExporter();
        const long budget = 1 << 20;
        await using (var pipeline = new DataExporter(exporter, Options(maxBatchBytes: budget), _time, name: "json"))
        {
            FlagObject meta = SharedMetadataTests.Meta(20_000); // a bound of ~120 KB per event
            for (int i = 0; i < 100; i++)
            {
                Assert.True(pipeline.Add(SharedMetadataTests.Event(i, meta)));
            }

            await pipeline.FlushAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), exporter.Ids);
        Assert.True(exporter.Encoded.Count > 10, $"{exporter.Encoded.Count} batches: cut by bytes, not only by the 1,000 events of MaxEventInMemory");
        Assert.All(exporter.Encoded, bytes => Assert.InRange(bytes, 1, budget));
    }

    [Fact]
    public async Task Library_DurableBuffer_LargeSharedMeta_LogHoldsItAboutOnce_EveryEncodingWithinTheDefaultBound_EachEventOnce()
    {
        // 4,000 events sharing 0.56 MB of metadata (a 0.78 MB collector request): 2.2 GB of JSON lines in all, more than
        // one encoder buffer can hold.
        var exporter = new EncodingExporter();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport().UseDurableBuffer(Path.Combine(_folder.Path, "buffer"))
            .AddExporter("json", _ => exporter, o => o.FlushInterval = TimeSpan.FromHours(1));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        FlagObject meta = SharedMetadataTests.Meta(560_000);
        for (int i = 0; i < 4000; i++)
        {
            Assert.True(sink.Add(SharedMetadataTests.Event(i, meta)));
        }

        await sink.FlushAsync(TestContext.Current.CancellationToken);
        DurableEventStore store = host.Services.GetRequiredService<ExporterPipelines>().DurableBuffer!;
        long logBytes = Directory.GetFiles(Path.Combine(_folder.Path, "buffer", "log"), "*.seg").Sum(f => new FileInfo(f).Length);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 4000).Select(i => (long)i), exporter.Ids);
        Assert.All(exporter.Encoded, bytes => Assert.InRange(bytes, 1, 256L * 1024 * 1024)); // the default MaxBatchEncodedBytes

        // Once per append of the library's path (a few thousand events each), not once per event (2.2 GB).
        Assert.InRange(logBytes, 560_000, 40_000_000);
        Assert.Equal(0, store.UnencodableCount);
    }

    [Fact]
    public async Task Restart_DurableBatchCutByBytes_IsCutAgainWithTheSameRange_AndEveryEventArrivesOnceWithItsMeta()
    {
        FlagObject meta = SharedMetadataTests.Meta(20_000); // a bound of ~120 KB per event: 8 per 1 MiB batch
        (long First, long End)? before = null;
        using (IHost first = BuildDurable(new RangeRecorder(new AlwaysFailingExporter(), r => before ??= r)))
        {
            await first.StartAsync(TestContext.Current.CancellationToken);
            IFlagEventSink sink = first.Services.GetRequiredService<IFlagEventSink>();
            for (int i = 0; i < 100; i++)
            {
                Assert.True(sink.Add(SharedMetadataTests.Event(i, meta)));
            }

            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));
            await first.StopAsync(TestContext.Current.CancellationToken);
        }

        var ranges = new List<(long First, long End)>();
        var up = new EncodingExporter();
        using (IHost second = BuildDurable(new RangeRecorder(up, ranges.Add)))
        {
            await second.StartAsync(TestContext.Current.CancellationToken);
            await second.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);
            await second.StopAsync(TestContext.Current.CancellationToken);
        }

        Assert.NotNull(before);
        Assert.Equal(before, ranges[0]); // the range saved before the first attempt, not cut again differently
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), up.Ids);
        Assert.True(ranges.Count >= 12, $"{ranges.Count} batches: cut by bytes");
        Assert.All(up.Encoded, bytes => Assert.InRange(bytes, 1, 1 << 20));
        Assert.All(up.Metadata, m => Assert.Equal(meta, m));
    }

    [Fact]
    public async Task PoisonBatch_WithALargeSharedMeta_IsSetAsideWhole_MetadataOnceInItsEvents_AndThePipelineMovesOn()
    {
        var exporter = new EncodingExporter { PoisonKey = "poison" };
        await using var pipeline = new DataExporter(exporter, Options(maxBatchBytes: 1 << 20), _time, name: "json");
        FlagObject meta = SharedMetadataTests.Meta(20_000);
        FeatureEvent[] poison = [.. Enumerable.Range(0, 6).Select(i => new FeatureEvent { CreationDate = i, Key = "poison", UserKey = "u", Metadata = meta })];
        foreach (FeatureEvent e in poison)
        {
            Assert.True(pipeline.Add(e));
        }

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        string letter = Assert.Single(DeadLetters.List(Letters));
        Assert.Equal(6, File.ReadAllLines(Path.Combine(letter, DeadLetters.JsonLinesFile)).Length);
        Assert.True(File.Exists(Path.Combine(letter, "object.json")), "the batch is within the bound: its object is kept");

        // The exact events keep the metadata once, and read back sharing it.
        byte[] fxev = await File.ReadAllBytesAsync(Path.Combine(letter, DeadLetters.EventsFile), TestContext.Current.CancellationToken);
        Assert.InRange(fxev.Length, 20_000, 30_000);
        List<ExportableEvent> kept = EventRecordFile.Read(fxev);
        Assert.Equal(poison.Select(e => e.CreationDate), kept.Select(e => e.CreationDate));
        Assert.All(kept, e => Assert.Same(((FeatureEvent)kept[0]).MetadataObject, ((FeatureEvent)e).MetadataObject));
        Assert.Equal(meta, ((FeatureEvent)kept[0]).MetadataObject);

        // The pipeline goes on with the next batch.
        Assert.True(pipeline.Add(TestEvents.Feature(100)));
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal([100L], exporter.Ids);
    }

    [Fact]
    public async Task PoisonEvent_LargerThanTheBound_IsSetAsideWithItsEvents_TheObjectLeftOutAndSaidSo()
    {
        var exporter = new EncodingExporter { PoisonKey = "poison" };
        await using var pipeline = new DataExporter(exporter, Options(maxBatchBytes: 1 << 20), _time, name: "json");
        Assert.True(pipeline.Add(new FeatureEvent { CreationDate = 1, Key = "poison", Metadata = SharedMetadataTests.Meta(300_000) })); // bound ~1.8 MB

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));

        string letter = Assert.Single(DeadLetters.List(Letters));
        Assert.Single(File.ReadAllLines(Path.Combine(letter, DeadLetters.JsonLinesFile)));
        Assert.Single(EventRecordFile.Read(await File.ReadAllBytesAsync(Path.Combine(letter, DeadLetters.EventsFile), TestContext.Current.CancellationToken)));
        Assert.False(File.Exists(Path.Combine(letter, "object.json")));
        using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(letter, DeadLetters.ManifestFile), TestContext.Current.CancellationToken));
        Assert.Contains("MaxBatchEncodedBytes", manifest.RootElement.GetProperty("objectError").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PoisonBatch_LetterCannotBeWritten_KeptAndRetriedWithBackoff_ThenSetAsideOnceItCan_AndThePipelineMovesOn()
    {
        // The dead-letter folder lies under a regular file: no letter can be written until the file is gone.
        await File.WriteAllTextAsync(Path.Combine(_folder.Path, "blocked"), "", TestContext.Current.CancellationToken);
        var exporter = new EncodingExporter { PoisonKey = "poison" };
        var logger = new Microsoft.Extensions.Logging.Testing.FakeLogger();
        DataExporterOptions options = Options(maxBatchBytes: 1 << 20);
        options.DeadLetterDirectory = Path.Combine(_folder.Path, "blocked", "letters");
        await using var pipeline = new DataExporter(exporter, options, _time, logger, name: "json");
        Assert.True(pipeline.Add(new FeatureEvent { CreationDate = 1, Key = "poison", Metadata = SharedMetadataTests.Meta(20_000) }));

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));

        Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "DeadLetterFailed");
        Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "ExportFailed"); // kept, with its retry scheduled
        Assert.Equal(1, pipeline.BufferedCount);

        // Once letters can be written, the retry after the backoff (at most 1 s first) sets the batch aside.
        File.Delete(Path.Combine(_folder.Path, "blocked"));
        _time.Advance(TimeSpan.FromSeconds(1));
        await TestEvents.WaitUntilAsync(() => pipeline.DeadLetteredCount == 1, "the batch set aside after the retry");
        Assert.Single(DeadLetters.List(options.DeadLetterDirectory));

        // A flush made while the set-aside is failing its waiters fails with them; the next one writes the event.
        Assert.True(pipeline.Add(TestEvents.Feature(2)));
        for (int attempt = 0; attempt < 2 && exporter.Ids.Count == 0; attempt++)
        {
            try
            {
                await pipeline.FlushAsync(TestContext.Current.CancellationToken);
            }
            catch (InvalidOperationException) when (attempt == 0)
            {
            }
        }

        Assert.Equal([2L], exporter.Ids);
    }

    private IHost BuildDurable(IExporter exporter)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport().UseDurableBuffer(Path.Combine(_folder.Path, "buffer")).AddExporter("json", _ => exporter, o =>
        {
            o.FlushInterval = TimeSpan.FromHours(1);
            o.MaxBatchEncodedBytes = 1 << 20;
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(200);
        });
        return builder.Build();
    }

    private DataExporterOptions Options(long maxBatchBytes) => new()
    {
        FlushInterval = TimeSpan.FromHours(1),
        MaxEventInMemory = 1000,
        MaxBatchEncodedBytes = maxBatchBytes,
        DeadLetterDirectory = Letters,
        ShutdownTimeout = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>Tells <paramref name="seen"/> each attempted batch's position range, then hands the batch to <paramref name="inner"/>.</summary>
    private sealed class RangeRecorder(IExporter inner, Action<(long First, long End)> seen) : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            seen((batch.FirstPosition, batch.EndPosition));
            return inner.ExportAsync(batch, cancellationToken);
        }
    }

    /// <summary>Encodes each batch as JSON lines as a file exporter would, keeps its size and ids, and fails batches holding <see cref="PoisonKey"/> as an encoder would.</summary>
    private sealed class EncodingExporter : IEncodingExporter, IDisposable
    {
        private readonly ExportFileEncoder _encoder = ExportFileEncoder.Create(new FileExporterOptions { Format = "json" }, EventType.Feature);
        private readonly List<long> _ids = [];
        private readonly List<long> _encoded = [];
        private readonly List<FlagObject?> _metadata = [];

        public string? PoisonKey { get; init; }

        public EventType EventType => EventType.Feature;

        public IReadOnlyList<long> Ids
        {
            get
            {
                lock (_ids)
                {
                    return [.. _ids];
                }
            }
        }

        public IReadOnlyList<long> Encoded
        {
            get
            {
                lock (_ids)
                {
                    return [.. _encoded];
                }
            }
        }

        public IReadOnlyList<FlagObject?> Metadata
        {
            get
            {
                lock (_ids)
                {
                    return [.. _metadata];
                }
            }
        }

        public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            if (PoisonKey is not null && batch.Events.Any(e => e.Key == PoisonKey))
            {
                throw new ExportEncodingException($"{batch.Events.Count} events could not be encoded.");
            }

            using PooledBufferWriter content = await _encoder.EncodeAsync(batch.Events, cancellationToken);
            lock (_ids)
            {
                _encoded.Add(content.WrittenCount);
                _ids.AddRange(batch.Events.Select(e => e.CreationDate));
                _metadata.AddRange(batch.Events.Select(e => (e as FeatureEvent)?.MetadataObject));
            }
        }

        public async ValueTask<(PooledBufferWriter Content, string FileName)> EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken) =>
            (await _encoder.EncodeAsync(events, cancellationToken), "object." + _encoder.FileExtension);

        public void Dispose() => _encoder.Dispose();
    }
}

using System.Diagnostics.Metrics;
using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlagExport.Tests.Durability;

public sealed class DurableBufferTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string BufferDirectory => Path.Combine(_folder.Path, "buffer");

    [Fact]
    public async Task FlushAsync_BufferOn_EveryEventOnDiskThenExportedOnceAndTheLogReleased()
    {
        var exporter = new InMemoryExporter();
        using IHost host = Build(export => export.AddExporter("memory", _ => exporter, o => o.FlushInterval = TimeSpan.FromHours(1)));
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();

        for (int i = 0; i < 10_000; i++)
        {
            Assert.True(sink.Add(TestEvents.Feature(i)));
        }

        await sink.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => (long)i), exporter.Ids);
        DurableEventStore store = host.Services.GetRequiredService<ExporterPipelines>().DurableBuffer!;
        Assert.Equal(10_000, store.DurablePosition);
        Assert.Equal(10_000, ExporterCursor.Open(Path.Combine(BufferDirectory, "cursors"), "memory", 0).Committed);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Restart_AfterAStopDuringAnOutage_TheNextProcessExportsEveryEventOnce()
    {
        using (IHost down = Build(export => export.AddExporter("s", _ => new AlwaysFailingExporter(), o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200))))
        {
            await down.StartAsync(TestContext.Current.CancellationToken);
            IFlagEventSink sink = down.Services.GetRequiredService<IFlagEventSink>();
            for (int i = 0; i < 500; i++)
            {
                Assert.True(sink.Add(TestEvents.Feature(i)));
            }

            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));
            await down.StopAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, down.Services.GetRequiredService<ExporterPipelines>().Pipelines[0].NotWrittenCount); // kept on disk, not lost
        }

        var exporter = new InMemoryExporter();
        using IHost up = Build(export => export.AddExporter("s", _ => exporter));
        await up.StartAsync(TestContext.Current.CancellationToken);
        await up.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);
        await up.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), exporter.Ids);
    }

    [Fact]
    public async Task Restart_TheBatchInFlightIsCutAgainWithItsIdentityRangeAndRecordedNames()
    {
        var first = new RecordingExporter(fail: true);
        using (IHost down = Build(export => export.AddExporter("s", _ => first, o => { o.ShutdownTimeout = TimeSpan.FromMilliseconds(200); o.MaxEventInMemory = 300; })))
        {
            await down.StartAsync(TestContext.Current.CancellationToken);
            IFlagEventSink sink = down.Services.GetRequiredService<IFlagEventSink>();
            for (int i = 0; i < 500; i++)
            {
                _ = sink.Add(TestEvents.Feature(i));
            }

            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));
            await down.StopAsync(TestContext.Current.CancellationToken);
        }

        var second = new RecordingExporter(fail: false);
        using IHost up = Build(export => export.AddExporter("s", _ => second, o => o.MaxEventInMemory = 300));
        await up.StartAsync(TestContext.Current.CancellationToken);
        await up.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);
        await up.StopAsync(TestContext.Current.CancellationToken);

        (string Id, long First, long End, int Attempt, string? Recorded, int Count) before = first.Seen[0];
        (string Id, long First, long End, int Attempt, string? Recorded, int Count) resumed = second.Seen[0];
        Assert.Equal((before.Id, before.First, before.End, before.Count), (resumed.Id, resumed.First, resumed.End, resumed.Count));
        Assert.Equal(0, before.First);
        Assert.Equal(300, before.End);
        Assert.True(resumed.Attempt > first.Seen.Count(s => s.Id == before.Id), "attempts before the restart count");
        Assert.Equal("name-chosen-by-attempt-1", resumed.Recorded);
        Assert.Equal(500, second.Seen.Sum(s => s.Count));
        Assert.Equal(2, second.Seen.Count);
    }

    [Fact]
    public async Task TryAppend_BufferFull_AppendsNothingOfTheRefusedCallAndKeepsEverythingBefore()
    {
        string directory = BufferDirectory;
        await using var store = DurableEventStore.Open(directory, maxBytes: DurableBufferOptions.MinMaxBufferBytes);
        var events = Enumerable.Range(0, 1000).Select(i => (ExportableEvent)TestEvents.Feature(i)).ToArray();
        int appended = 0;
        while (store.TryAppend(events, out long end))
        {
            await store.WaitForDurableAsync(end, TestContext.Current.CancellationToken);
            appended += events.Length;
        }

        Assert.InRange(store.SizeBytes, DurableBufferOptions.MinMaxBufferBytes / 2, DurableBufferOptions.MinMaxBufferBytes);
        await store.DisposeAsync();

        // Everything appended before the refusal reads back after a reopen, in order.
        await using var reopened = DurableEventStore.Open(directory, maxBytes: DurableBufferOptions.MinMaxBufferBytes);
        var read = new List<ExportableEvent>();
        using var reader = new DurableEventReader(reopened.Log, 0, EventType.Feature, "t", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        reader.ReadRange(0, reopened.DurablePosition, read);
        Assert.Equal(Enumerable.Range(0, appended).Select(i => (long)(i % 1000)), read.Select(e => e.CreationDate));
    }

    [Fact]
    public async Task TryAppend_BufferFullThenEveryExporterPastEverything_TakesEventsAgain()
    {
        await using var store = DurableEventStore.Open(BufferDirectory, maxBytes: DurableBufferOptions.MinMaxBufferBytes);
        ExporterCursor cursor = store.OpenCursor("memory");
        store.AllCursorsOpened();
        var events = Enumerable.Range(0, 100).Select(i => (ExportableEvent)TestEvents.Feature(i)).ToArray();
        while (store.TryAppend(events, out long end))
        {
            await store.WaitForDurableAsync(end, TestContext.Current.CancellationToken);
        }

        // What an exporter does once it has written everything: commit its cursor and free what no exporter needs.
        cursor.Commit(store.DurablePosition);
        store.Release();

        // Only a part of the capacity may stay held (the segment being written); the rest is free for new events.
        Assert.True(store.SizeBytes <= DurableBufferOptions.MinMaxBufferBytes / 4, $"{store.SizeBytes} bytes still held with every event exported");
        Assert.True(store.TryAppend(events, out _));
    }

    [Fact]
    public async Task Add_FeatureAndTrackingPipelines_EachReadsOnlyItsTypeFromTheSharedLog()
    {
        var features = new InMemoryExporter();
        var tracking = new InMemoryExporter();
        using IHost host = Build(export => export
            .AddExporter("features", _ => features)
            .AddExporter("tracking", _ => tracking, o => o.EventType = EventType.Tracking));
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();

        Assert.True(sink.Add(TestEvents.Feature(1)));
        Assert.True(sink.Add(TestEvents.Tracking(2)));
        Assert.True(sink.Add(TestEvents.Feature(3)));
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal([1L, 3], features.Ids);
        Assert.Equal([2L], tracking.Ids);
    }

    [Fact]
    public async Task OneExporterDown_TheOtherExportsEverything_AndSegmentsStayUntilTheLaggardIsPastThem()
    {
        var up = new InMemoryExporter();
        var down = new InMemoryExporter { FailuresLeft = int.MaxValue };
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport()
            .UseDurableBuffer(BufferDirectory, maxBufferBytes: DurableBufferOptions.MinMaxBufferBytes) // small segments: 128 KiB
            .AddExporter("up", _ => up, o => (o.MaxEventInMemory, o.MaxBufferedEvents) = (500, 6_000)) // all may wait for the disk at once
            .AddExporter("down", _ => down, o => (o.MaxEventInMemory, o.MaxBufferedEvents) = (500, 6_000));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        ExporterPipelines pipelines = host.Services.GetRequiredService<ExporterPipelines>();
        for (int i = 0; i < 6_000; i++)
        {
            Assert.True(sink.Add(TestEvents.Feature(i)));
        }

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));
        await pipelines.Pipelines[0].FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 6_000).Select(i => (long)i), up.Ids);
        string[] segmentsWhileDown = Directory.GetFiles(Path.Combine(BufferDirectory, "log"), "*.seg");
        Assert.True(segmentsWhileDown.Length > 2, $"the laggard keeps every segment ({segmentsWhileDown.Length})");

        down.FailuresLeft = 0;
        await sink.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 6_000).Select(i => (long)i), down.Ids);
        Assert.Single(Directory.GetFiles(Path.Combine(BufferDirectory, "log"), "*.seg")); // only the active one is left
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void OpenCursor_ExporterNowTakesTheOtherEventType_StartsOverWithoutTheOldBatchInFlight()
    {
        string cursors = Path.Combine(BufferDirectory, "cursors");
        ExporterCursor before = ExporterCursor.Open(cursors, "s3", start: 0, EventType.Feature);
        before.SaveInFlight(new BatchState("id", 40, 50));
        before.Commit(40);
        before.SaveInFlight(new BatchState("id2", 40, 60));

        ExporterCursor same = ExporterCursor.Open(cursors, "s3", start: 0, EventType.Feature);
        ExporterCursor other = ExporterCursor.Open(cursors, "s3", start: 7, EventType.Tracking);

        Assert.Equal((40L, "id2", false), (same.Committed, same.InFlight?.Id, same.WasReset));
        Assert.Equal((7L, (string?)null, true), (other.Committed, other.InFlight?.Id, other.WasReset));
    }

    [Fact]
    public async Task Configuration_BufferDirectoryKey_TurnsTheBufferOnWithoutTheBuilderCall()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["FlagExport:BufferDirectory"] = BufferDirectory });
        _ = builder.Services.AddFlagExport().AddExporter("memory", _ => new InMemoryExporter());
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        Assert.NotNull(host.Services.GetRequiredService<ExporterPipelines>().DurableBuffer);
        Assert.True(Directory.Exists(Path.Combine(BufferDirectory, "log")));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Configuration_MaxBufferBytesTooSmall_FailsAtStartNamingTheKeyAndValue()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["FlagExport:BufferDirectory"] = BufferDirectory, ["FlagExport:MaxBufferBytes"] = "1000" });
        _ = builder.Services.AddFlagExport().AddExporter("memory", _ => new InMemoryExporter());
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal("FlagExport:MaxBufferBytes must be at least 1048576 (1 MiB); got '1000'.", error.Message);
    }

    [Fact]
    public async Task Add_WhileTheBufferIsFull_AtMostTheExportersMaxBufferedEventsWaitInMemory_TheRestIsDroppedAndCounted()
    {
        const int Adds = 40_000; // some 6 MB in the log's form: several times the 1 MiB buffer
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddMetrics().AddFlagExport()
            .UseDurableBuffer(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes)
            .AddExporter("down", _ => new AlwaysFailingExporter(), o => (o.FlushInterval, o.MaxEventInMemory, o.MaxBufferedEvents) = (TimeSpan.FromHours(1), 10, 20));
        using IHost host = builder.Build();
        using var dropped = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), "FlagExport", "flagexport.durable.events.dropped");
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        string key = new('k', 100);

        int accepted = Enumerable.Range(0, Adds).Count(i => sink.Add(new FeatureEvent { CreationDate = i, Key = key, UserKey = "u" }));
        dropped.RecordObservableInstruments();

        // The exporter never writes, so the buffer fills and what is added after waits in memory: 20 events at most.
        Assert.True(accepted < Adds / 2, $"{accepted} of {Adds} accepted");
        Assert.Equal(Adds - accepted, dropped.GetMeasurementSnapshot().Where(m => Equals(m.Tags["flagexport.drop_reason"], "buffer_full")).Max(m => m.Value));
        using var giveUp = new CancellationTokenSource();
        await giveUp.CancelAsync();
        await host.StopAsync(giveUp.Token);
    }

    private IHost Build(Action<FlagExportBuilder> configure)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        FlagExportBuilder export = builder.Services.AddFlagExport().UseDurableBuffer(BufferDirectory);
        configure(export);
        return builder.Build();
    }

    /// <summary>Records what each attempt saw; the first attempt of each batch records a name; fails every export when told.</summary>
    private sealed class RecordingExporter(bool fail) : IExporter
    {
        private readonly List<(string, long, long, int, string?, int)> _seen = [];

        public IReadOnlyList<(string Id, long First, long End, int Attempt, string? Recorded, int Count)> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            lock (_seen)
            {
                _seen.Add((batch.Id, batch.FirstPosition, batch.EndPosition, batch.Attempt, batch.GetRecorded("name"), batch.Events.Count));
            }

            if (batch.GetRecorded("name") is null)
            {
                await batch.RecordAsync("name", $"name-chosen-by-attempt-{batch.Attempt}", cancellationToken);
            }

            if (fail)
            {
                throw new IOException("down");
            }
        }
    }
}

using System.Text.Json;
using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport.Tests.Durability;

/// <summary>Durability edge cases: a failure part-way through a cut, a letter that cannot hold its events, cursors opened late, one bad event among good ones, flushes made during a set-aside attempt.</summary>
public sealed class DurabilityEdgeCaseTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string BufferDirectory => Path.Combine(_folder.Path, "buffer");

    private string DeadLetterDirectory => Path.Combine(_folder.Path, "dead-letter");

    /// <summary>
    /// A second store refused by the folder's lock leaves the buffer id alone: the id is read or created only under the
    /// lock, so two processes starting on one folder never leave the first with an id the folder no longer holds.
    /// </summary>
    [Fact]
    public async Task SecondStore_RefusedByTheLock_DoesNotTouchTheBufferId()
    {
        await using DurableEventStore first = DurableEventStore.Open(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes);
        string idFile = Path.Combine(BufferDirectory, "buffer-id");
        File.Delete(idFile); // as if the first process had not written it yet when the second one starts

        _ = Assert.Throws<DurableBufferLockedException>(() => DurableEventStore.Open(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes));

        Assert.False(File.Exists(idFile), "the refused store wrote a buffer id");
    }

    /// <summary>A record that fails to read part-way through a cut leaves nothing taken: the worker lives, and once the read works the whole range is exported.</summary>
    [Fact]
    public async Task DurableRead_FailsMidRange_WorkerSurvivesAndExportsOnceTheReadWorks()
    {
        // Nothing kept in memory: the reader must read the damaged record from the log (after a restart, or once memory dropped it).
        await using DurableEventStore store = DurableEventStore.Open(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes, recentRecords: 0);
        ExporterCursor cursor = store.OpenCursor("t"); // before the events: a new exporter takes those acknowledged from then on
        ExportableEvent[] events = [.. Enumerable.Range(0, 10).Select(i => (ExportableEvent)TestEvents.Feature(i))];
        Assert.True(store.TryAppend(events, out long end));
        await store.WaitForDurableAsync(end, TestContext.Current.CancellationToken);

        // Damage the last record's payload: the first nine read back, then the reader throws InvalidDataException.
        string segment = Directory.GetFiles(Path.Combine(BufferDirectory, "log"), "*.seg").Single();
        long offset = new FileInfo(segment).Length - 3;
        byte original;
        await using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
        {
            file.Position = offset;
            original = (byte)file.ReadByte();
            file.Position = offset;
            file.WriteByte((byte)(original ^ 0xFF));
        }

        var exporter = new InMemoryExporter();
        var durable = new DurableSource(store, cursor, new DurableEventReader(store.Log, cursor.Committed, EventType.Feature, "t", NullLogger.Instance));
        var options = new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), DeadLetterDirectory = DeadLetterDirectory };
        var signal = new WorkerSignal();
        var source = new DurableBatchSource("t", options, durable, signal, NullLogger.Instance);
        await using var pipeline = new ExportWorker(exporter, options, "t", source, signal, timeProvider: null, logger: null, meterFactory: null, jitterSample: null);
        source.OnDurableAdvanced(store.DurablePosition);

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));

        // The disk reads correctly again (a transient read error, or the byte repaired).
        await using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
        {
            file.Position = offset;
            file.WriteByte(original);
        }
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), exporter.Ids);
    }

    /// <summary>Segments are released only once every exporter's cursor is open: a pipeline that commits first cannot free what a later exporter still needs.</summary>
    [Fact]
    public async Task Start_FirstPipelineCommitsBeforeTheSecondCursorIsOpened_SecondExporterLosesNothing()
    {
        const int count = 6000;
        long logEnd = 0;
        await using (DurableEventStore seed = DurableEventStore.Open(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes))
        {
            seed.OpenCursor("a").Commit(0);
            seed.OpenCursor("b").Commit(0); // "b" existed in the previous run and has exported nothing yet
            for (int i = 0; i < count; i += 100)
            {
                Assert.True(seed.TryAppend([.. Enumerable.Range(i, 100).Select(j => (ExportableEvent)TestEvents.Feature(j))], out long end));
                await seed.WaitForDurableAsync(end, TestContext.Current.CancellationToken);
                logEnd = end;
            }
        }

        Assert.True(Directory.GetFiles(Path.Combine(BufferDirectory, "log"), "*.seg").Length > 2, "the backlog spans several sealed segments");

        var a = new InMemoryExporter();
        var b = new InMemoryExporter();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport().UseDurableBuffer(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes)
            .AddExporter("a", _ => a, o => o.FlushInterval = TimeSpan.FromMilliseconds(100))
            .AddExporter("b", _ =>
            {
                // A factory that takes a moment (building a client, reading a secret): "a" is already running, and has
                // committed its whole backlog to its cursor file before "b"'s cursor is opened.
                Assert.True(
                    SpinWait.SpinUntil(() => a.EventCount == count && CommittedOf("a") >= logEnd, TimeSpan.FromSeconds(30)),
                    $"exporter 'a' did not commit its {count} events");
                return b;
            });
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(count, a.EventCount);
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), b.Ids);
    }

    /// <summary>Two pipelines of one name (the constructor's default is the exporter's type name) never share a batch id, so each dead letter is kept.</summary>
    [Fact]
    public async Task DeadLetter_TwoPipelinesWithTheDefaultName_BothBatchesAreKept()
    {
        var options = new DataExporterOptions { MaxEventInMemory = 10, FlushInterval = TimeSpan.FromHours(1), DeadLetterDirectory = DeadLetterDirectory };
        await using var features = new DataExporter(new PermanentlyFailingExporter(), options);
        await using var moreFeatures = new DataExporter(new PermanentlyFailingExporter(), options);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(features.Add(TestEvents.Feature(i)));
            Assert.True(moreFeatures.Add(TestEvents.Feature(100 + i)));
        }

        await TestEvents.WaitUntilAsync(() => features.DeadLetterBatchCount == 1 && moreFeatures.DeadLetterBatchCount == 1, "both batches are set aside");

        Assert.Equal(2, DeadLetters.List(DeadLetterDirectory).Count);
    }

    /// <summary>A batch whose events the record codec refuses (a value nested deeper than 64) is still set aside, without events.fxev; the worker lives on.</summary>
    [Fact]
    public async Task DeadLetter_BatchWithADeeplyNestedValue_WorkerSurvives()
    {
        await using var pipeline = new DataExporter(new PermanentlyFailingExporter(),
            new DataExporterOptions { MaxEventInMemory = 10, FlushInterval = TimeSpan.FromHours(1), DeadLetterDirectory = DeadLetterDirectory });
        Assert.True(pipeline.Add(new FeatureEvent { CreationDate = 1, Key = "flag", UserKey = "user", Value = Nested(80) }));
        InvalidOperationException setAside = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        Assert.IsNotType<ObjectDisposedException>(setAside);
        Assert.True(pipeline.Add(TestEvents.Feature(2)));
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, pipeline.DeadLetterBatchCount);
    }

    /// <summary>Library and durable buffer: an event the buffer cannot encode is dropped alone and counted; the events added after it reach the log.</summary>
    [Fact]
    public async Task DurableIntake_OneDeeplyNestedEvent_DoesNotWedgeTheEventsAfterIt()
    {
        var exporter = new InMemoryExporter();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport().UseDurableBuffer(BufferDirectory).AddExporter("memory", _ => exporter, o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(300));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();

        Assert.True(sink.Add(new FeatureEvent { CreationDate = 1, Key = "flag", UserKey = "user", Value = Nested(80) }));
        Assert.True(sink.Add(TestEvents.Feature(2)));
        try
        {
            await sink.FlushAsync(TestContext.Current.CancellationToken);
        }
        catch (InvalidOperationException)
        {
            // Tolerated only for the bad event itself; the good one must still get through.
        }

        await TestEvents.WaitUntilAsync(() => exporter.Ids.Contains(2), "the event added after the bad one is exported");
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A flush made while the attempt that is set aside runs fails too: its events were not written.</summary>
    [Fact]
    public async Task FlushAsync_MadeWhileTheAttemptRunsThatIsSetAside_DoesNotReportSuccess()
    {
        var exporter = new GatedPermanentExporter();
        await using var pipeline = new DataExporter(exporter,
            new DataExporterOptions { MaxEventInMemory = 10, FlushInterval = TimeSpan.FromHours(1), DeadLetterDirectory = DeadLetterDirectory });
        for (int i = 0; i < 10; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i))); // the size trigger starts the attempt
        }

        await exporter.Started.WaitAsync(TestContext.Current.CancellationToken);
        Task flush = pipeline.FlushAsync(TestContext.Current.CancellationToken);
        exporter.Release();
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => flush);
        Assert.Equal(1, pipeline.DeadLetterBatchCount);
    }

    private static FlagValue Nested(int depth)
    {
        FlagValue value = FlagValue.FromInteger(1);
        for (int i = 0; i < depth; i++)
        {
            value = FlagValue.FromArray([value]);
        }

        return value;
    }

    private sealed class GatedPermanentExporter : IExporter
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started => _started.Task;

        public void Release() => _gate.TrySetResult();

        public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            _ = _started.TrySetResult();
            await _gate.Task.WaitAsync(cancellationToken);
            throw new ExportEncodingException("cannot encode (test)");
        }
    }

    private sealed class PermanentlyFailingExporter : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken) =>
            throw new ExportEncodingException("cannot encode (test)");
    }

    /// <summary>The <c>committed</c> position in the cursor file of <paramref name="exporter"/>, or -1 while it cannot be read.</summary>
    private long CommittedOf(string exporter)
    {
        try
        {
            foreach (string file in Directory.GetFiles(Path.Combine(BufferDirectory, "cursors"), $"{exporter}.*.cursor"))
            {
                using JsonDocument cursor = JsonDocument.Parse(File.ReadAllBytes(file));
                return cursor.RootElement.GetProperty("committed").GetInt64();
            }
        }
        catch (IOException)
        {
            // replaced by a rename just now: read again
        }

        return -1;
    }
}

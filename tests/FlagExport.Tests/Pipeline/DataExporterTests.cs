using System.Diagnostics;
using System.Diagnostics.Metrics;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Pipeline;

public sealed class DataExporterTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Add_FlushesWhenIntervalElapses()
    {
        var exporter = new InMemoryExporter();
        await using DataExporter pipeline = Create(exporter);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i)));
        }

        _time.Advance(Interval);

        await TestEvents.WaitUntilAsync(() => exporter.EventCount == 3, "the interval flush wrote 3 events");
        Assert.Equal([0L, 1, 2], exporter.Ids);
    }

    [Fact]
    public async Task Add_FlushesAtMaxEventInMemoryWithoutTheClockMoving()
    {
        var exporter = new InMemoryExporter();
        await using DataExporter pipeline = Create(exporter, o => o.MaxEventInMemory = 5);
        for (int i = 0; i < 5; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        await TestEvents.WaitUntilAsync(() => exporter.EventCount == 5, "the size trigger wrote 5 events");
        Assert.Equal([0L, 1, 2, 3, 4], exporter.Ids);
    }

    [Fact]
    public async Task FlushAsync_ExportsBatchesOfAtMostMaxEventInMemoryInAddOrder()
    {
        var exporter = new InMemoryExporter();
        await using DataExporter pipeline = Create(exporter, o =>
        {
            o.MaxEventInMemory = 10;
            o.MaxBufferedEvents = 100; // room for all 95: this test is about batch sizes, not the bound
        });
        for (int i = 0; i < 95; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        Assert.All(exporter.Batches, b => Assert.InRange(b.Length, 1, 10));
        Assert.Equal(Enumerable.Range(0, 95).Select(i => (long)i), exporter.Ids);
    }

    [Fact]
    public async Task Add_EightThreadsAddingAMillionEvents_ExportsEachExactlyOnce()
    {
        const int Threads = 8;
        const int PerThread = 125_000;
        const int Total = Threads * PerThread;
        var exporter = new InMemoryExporter();
        await using DataExporter pipeline = Create(exporter, o =>
        {
            o.MaxEventInMemory = 10_000;
            o.MaxBufferedEvents = Total; // no drops: this test is about loss and duplication
        });

        using var adding = new CancellationTokenSource();
        Task flusher = Task.Run(async () =>
        {
            while (!adding.IsCancellationRequested)
            {
                await pipeline.FlushAsync(TestContext.Current.CancellationToken);
            }
        }, TestContext.Current.CancellationToken);
        Task[] producers = [.. Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                Assert.True(pipeline.Add(TestEvents.Feature(((long)t * PerThread) + i)));
            }
        }, TestContext.Current.CancellationToken))];
        await Task.WhenAll(producers);
        await adding.CancelAsync();
        await flusher;
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        int[] seen = new int[Total];
        long[] lastPerThread = [.. Enumerable.Repeat(-1L, Threads)];
        foreach (long id in exporter.Ids)
        {
            seen[id]++;
            long thread = id / PerThread;
            Assert.True(id > lastPerThread[thread], "each thread's events are exported in the order it added them");
            lastPerThread[thread] = id;
        }

        Assert.Equal(Total, exporter.EventCount);
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.All(exporter.Batches, b => Assert.InRange(b.Length, 1, 10_000));
        Assert.Equal(0, pipeline.DroppedCount);
    }

    [Fact]
    public async Task FlushAsync_FailingExporter_KeepsTheBatchAndALaterSuccessWritesEveryEventOnceInOrder()
    {
        var exporter = new InMemoryExporter { FailuresLeft = 2 };
        await using DataExporter pipeline = Create(exporter, o => o.MaxEventInMemory = 100);
        for (int i = 0; i < 25; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        for (int i = 25; i < 30; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i))); // events keep buffering while the exporter fails
        }

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        long[] firstBatch = [.. Enumerable.Range(0, 25).Select(i => (long)i)];
        IReadOnlyList<ExportableEvent[]> attempts = exporter.Attempts;
        Assert.Equal(4, attempts.Count);
        Assert.All(attempts.Take(3), a => Assert.Equal(firstBatch, a.Select(e => e.CreationDate)));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), exporter.Ids);
    }

    [Fact]
    public async Task FlushAsync_RequestedDuringAFailingExport_WaitsForTheNextAttempt()
    {
        var exporter = new GatedExporter();
        await using DataExporter pipeline = Create(exporter);
        _ = pipeline.Add(TestEvents.Feature(1));

        Task before = pipeline.FlushAsync(TestContext.Current.CancellationToken);
        await exporter.FirstStarted;
        Task during = pipeline.FlushAsync(TestContext.Current.CancellationToken);
        exporter.Release();

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => before);
        await during;
        Assert.Equal(2, exporter.Calls);
        Assert.Equal(0, pipeline.BufferedCount);
    }

    [Fact]
    public async Task ExportAsync_Throws_LogsOneWarningWithTheReason_TheStackOnlyAtDebug_AndTheWorkerGoesOn()
    {
        var exporter = new InMemoryExporter { FailuresLeft = 1 };
        var logger = new FakeLogger();
        await using DataExporter pipeline = Create(exporter, logger: logger);
        _ = pipeline.Add(TestEvents.Feature(1));

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        FakeLogRecord failed = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == Log.Ids.ExportFailed);
        Assert.Equal("ExportFailed", failed.Id.Name);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Null(failed.Exception);
        Assert.Contains("Injected failure.", failed.Message, StringComparison.Ordinal);
        Assert.Contains($"retried at {_time.GetUtcNow() + TimeSpan.FromMilliseconds(1):yyyy}", failed.Message, StringComparison.Ordinal);
        FakeLogRecord detail = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == Log.Ids.ExportFailureDetail);
        Assert.Equal(LogLevel.Debug, detail.Level);
        Assert.IsType<IOException>(detail.Exception);
        Assert.Equal(1, Count(logger, Log.Ids.ExportRecovered));
        Assert.Equal([1L], exporter.Ids);
    }

    [Fact]
    public async Task AWrittenFile_IsLoggedOnce_AtInformation_WithItsPathEventsAndBytes()
    {
        using var folder = new TempDirectory();
        var logger = new FakeLogger();
        await using DataExporter pipeline = Create(new FileExporter(new FileExporterOptions { OutputDir = folder.Path }, timeProvider: _time), logger: logger);
        _ = pipeline.Add(TestEvents.Feature(1));
        _ = pipeline.Add(TestEvents.Feature(2));

        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        FakeLogRecord written = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == Log.Ids.ObjectWritten);
        string path = Assert.Single(Directory.GetFiles(folder.Path));
        Assert.Equal(LogLevel.Information, written.Level);
        Assert.Equal(path, written.GetStructuredStateValue("Location"));
        Assert.Equal("2", written.GetStructuredStateValue("EventCount"));
        Assert.Equal(new FileInfo(path).Length.ToString(System.Globalization.CultureInfo.InvariantCulture), written.GetStructuredStateValue("ByteCount"));
        Assert.Equal("test", written.GetStructuredStateValue("ExporterName"));
        Assert.NotNull(written.GetStructuredStateValue("ElapsedMilliseconds"));
    }

    [Fact]
    public async Task FlushAsync_CallerCancels_StopsWaitingWhileTheExportGoesOn()
    {
        var exporter = new BlockingExporter();
        DataExporter pipeline = Create(exporter);
        _ = pipeline.Add(TestEvents.Feature(1));
        using var caller = new CancellationTokenSource();

        Task flush = pipeline.FlushAsync(caller.Token);
        await exporter.Started;
        await caller.CancelAsync();

        _ = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => flush);
        Assert.False(exporter.Cancelled.IsCompleted);
        await TestEvents.AdvanceUntilCompletedAsync(_time, pipeline.DisposeAsync().AsTask(), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task RetryTimer_RetriesAfterBackoffWithoutWaitingForTheInterval()
    {
        var exporter = new InMemoryExporter { FailuresLeft = 1 };
        await using DataExporter pipeline = Create(exporter, o => o.FlushInterval = TimeSpan.FromHours(1));
        for (int i = 0; i < 3; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        // The failed flush returns after the worker armed its retry timer.
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        _time.Advance(ExportRetryPolicy.InitialDelay); // jitter only shortens the first delay

        await TestEvents.WaitUntilAsync(() => exporter.EventCount == 3, "the retry wrote the batch");
        Assert.Equal([0L, 1, 2], exporter.Ids);
    }

    [Fact]
    public async Task SizeTrigger_AfterAFailure_MaxEventInMemoryNewEventsRetryTheKeptBatchWithoutTheClockMoving()
    {
        var exporter = new InMemoryExporter { FailuresLeft = 1 };
        await using DataExporter pipeline = Create(exporter, o => o.MaxEventInMemory = 5);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i)));
        }

        await TestEvents.WaitUntilAsync(() => exporter.Calls == 1 && pipeline.WorkerIsIdle, "the size trigger's export failed and the worker went idle");
        for (int i = 5; i < 10; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i))); // the fifth new event since the failure crosses the threshold
        }

        await TestEvents.WaitUntilAsync(() => exporter.EventCount == 10, "the size trigger retried the kept batch and wrote the new one");
        IReadOnlyList<ExportableEvent[]> attempts = exporter.Attempts;
        Assert.Equal(3, attempts.Count); // the failure, its retry, then the new batch
        Assert.Equal([0L, 1, 2, 3, 4], attempts[0].Select(e => e.CreationDate));
        Assert.Equal([0L, 1, 2, 3, 4], attempts[1].Select(e => e.CreationDate));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), exporter.Ids); // each once, in order
    }

    [Fact]
    public async Task SizeTrigger_AfterAFailureWithNoNewEvents_DoesNotRetryBeforeTheBackoffOrTheInterval()
    {
        var exporter = new InMemoryExporter { FailuresLeft = int.MaxValue };
        await using DataExporter pipeline = Create(exporter, o => o.MaxEventInMemory = 5);
        using var recover = exporter.SucceedFromDispose(); // disposed first: the pipeline's drain succeeds even after a failed assertion
        for (int i = 0; i < 5; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i)));
        }

        // Idle means parked with no wake-up pending: with the clock still and no Add, nothing can wake the worker again.
        // Had the kept batch (a full one) re-triggered the size trigger, the worker would retry at once, in a loop, and
        // never be seen idle after exactly one call.
        await TestEvents.WaitUntilAsync(() => exporter.Calls == 1 && pipeline.WorkerIsIdle, "the export failed and the worker went idle");

        Assert.Equal(1, exporter.Calls);
        Assert.Equal(5, pipeline.BufferedCount);
    }

    [Fact]
    public async Task SizeTrigger_AfterAFailure_FullBatchesAlreadyWaitingDoNotRetry()
    {
        var exporter = new GatedExporter(); // the first export waits for Release and fails; later ones succeed
        await using DataExporter pipeline = Create(exporter, o =>
        {
            o.MaxEventInMemory = 5;
            o.MaxBufferedEvents = 50; // room for what this test adds: it is about the trigger, not the bound
        });
        for (int i = 0; i < 5; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i)));
        }

        await exporter.FirstStarted;
        for (int i = 5; i < 15; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i))); // two full batches wait behind the one being exported
        }

        exporter.Release();
        await TestEvents.WaitUntilAsync(() => pipeline.WorkerIsIdle, "the worker handled the failure and went idle");

        // The waiting events crossed the threshold before the failure: they must not retry it (a retry here would succeed).
        Assert.Equal(1, exporter.Calls);
        Assert.Equal(0, pipeline.ExportedCount);

        for (int i = 15; i < 20; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i)));
        }

        await TestEvents.WaitUntilAsync(() => pipeline.ExportedCount == 20, "five new events retried the kept batch and the rest followed");
        Assert.Equal(5, exporter.Calls); // the failure, then four batches of five
    }

    [Fact]
    public async Task SizeTrigger_UnderRepeatedFailures_FewerThanMaxEventInMemoryNewEventsDoNotRetry()
    {
        var exporter = new InMemoryExporter { FailuresLeft = int.MaxValue };
        await using DataExporter pipeline = Create(exporter, o => o.MaxEventInMemory = 5);
        using var recover = exporter.SucceedFromDispose();
        for (int i = 0; i < 5; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        await TestEvents.WaitUntilAsync(() => exporter.Calls == 1 && pipeline.WorkerIsIdle, "the first export failed");
        for (int i = 5; i < 10; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        await TestEvents.WaitUntilAsync(() => exporter.Calls == 2 && pipeline.WorkerIsIdle, "five new events retried, and the retry failed");

        for (int i = 10; i < 14; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i)));
        }

        // A wake-up releases the parked worker inside Add, so still idle after the Adds means none of them woke it.
        Assert.True(pipeline.WorkerIsIdle, "four new events woke the worker");
        Assert.Equal(2, exporter.Calls);

        _ = pipeline.Add(TestEvents.Feature(14)); // the fifth since the last failure
        await TestEvents.WaitUntilAsync(() => exporter.Calls == 3 && pipeline.WorkerIsIdle, "the fifth new event retried");
        Assert.All(exporter.Attempts, a => Assert.Equal([0L, 1, 2, 3, 4], a.Select(e => e.CreationDate)));
        Assert.Equal(0, pipeline.ExportedCount);
    }

    [Fact]
    public async Task RetryTimer_AlwaysFailingExporter_FirstThreeRetriesFollowTheBackoffWithItsJitter()
    {
        // Jitter samples 0.25, 0.5 and 0.75 take 5 %, 10 % and 15 % off the nominal 1, 2 and 4 seconds.
        var samples = new Queue<double>([0.25, 0.5, 0.75]);
        var exporter = new InMemoryExporter { FailuresLeft = int.MaxValue };
        await using var pipeline = new DataExporter(
            exporter,
            new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), MaxEventInMemory = 10 },
            optionsName: null,
            name: "test",
            _time,
            logger: null,
            meterFactory: null,
            jitterSample: () => samples.TryDequeue(out double sample) ? sample : 0.0); // only the worker calls it
        using var recover = exporter.SucceedFromDispose();
        _ = pipeline.Add(TestEvents.Feature(1));
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        await TestEvents.WaitUntilAsync(() => pipeline.WorkerIsIdle, "the worker armed its retry timer and went idle");

        // Move the clock a millisecond at a time. A due timer wakes the worker inside Advance (it is no longer idle), so
        // after each step wait until it is idle again: by then any retry of that step has called the exporter.
        DateTimeOffset start = _time.GetUtcNow(); // the first attempt ran here: the clock had not moved
        List<TimeSpan> calledAt = [TimeSpan.Zero];
        while (calledAt.Count < 4)
        {
            Assert.True(_time.GetUtcNow() - start < TimeSpan.FromSeconds(10), "three retries within 7 s of fake time");
            _time.Advance(TimeSpan.FromMilliseconds(1));
            if (!pipeline.WorkerIsIdle)
            {
                await TestEvents.WaitUntilAsync(() => pipeline.WorkerIsIdle, "the retry ended and the worker went idle");
            }

            while (calledAt.Count < exporter.Calls)
            {
                calledAt.Add(_time.GetUtcNow() - start);
            }
        }

        TimeSpan[] gaps = [.. calledAt.Zip(calledAt.Skip(1), (before, after) => after - before)];
        Assert.Equal([TimeSpan.FromMilliseconds(950), TimeSpan.FromMilliseconds(1800), TimeSpan.FromMilliseconds(3400)], gaps);
        Assert.All(gaps.Zip([1.0, 2.0, 4.0]), g => Assert.InRange(g.First.TotalSeconds, 0.8 * g.Second, g.Second));
    }

    [Fact(Timeout = 60_000)] // caps an Add that would block on the hung export; not a timing assertion
    public async Task Add_ExporterHangsIgnoringCancellation_AHundredThousandAddsReturnAndTheExcessIsDropped()
    {
        const int Adds = 100_000;
        const int MaxBuffered = 5_000;
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory meterFactory = services.GetRequiredService<IMeterFactory>();
        using var dropped = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, PipelineMetrics.EventsDroppedName);
        var exporter = new HangingExporter();
        var options = new DataExporterOptions { FlushInterval = Interval, MaxEventInMemory = 1_000, MaxBufferedEvents = MaxBuffered, ExportTimeout = TimeSpan.FromSeconds(5) };
        var pipeline = new DataExporter(exporter, options, _time, meterFactory: meterFactory, name: "hung");
        try
        {
            int accepted = 0;
            for (int i = 0; i < options.MaxEventInMemory; i++)
            {
                accepted += pipeline.Add(TestEvents.Feature(i)) ? 1 : 0;
            }

            await exporter.Started.WaitAsync(TestContext.Current.CancellationToken);
            _time.Advance(options.ExportTimeout); // the export's token is cancelled; the exporter ignores it and stays hung
            for (int i = options.MaxEventInMemory; i < Adds; i++)
            {
                accepted += pipeline.Add(TestEvents.Feature(i)) ? 1 : 0;
            }

            // Nothing was written, so exactly MaxBufferedEvents were accepted and every other Add was refused and counted.
            Assert.Equal(MaxBuffered, accepted);
            Assert.Equal(Adds - MaxBuffered, pipeline.DroppedCount);
            Assert.Equal(MaxBuffered, pipeline.BufferedCount);
            Assert.Equal(0, pipeline.ExportedCount);
            dropped.RecordObservableInstruments();
            Assert.Equal(Adds - MaxBuffered, dropped.GetMeasurementSnapshot().Last(m => (string?)m.Tags[PipelineMetrics.ReasonTag] == "buffer_full").Value);
        }
        finally
        {
            exporter.Release();
            await pipeline.DisposeAsync();
        }

        Assert.Equal(MaxBuffered, exporter.EventCount); // the accepted events were kept, and written once the export came back
    }

    [Fact]
    public async Task Add_BufferFull_DropsNewEventsCountsThemAndWarnsOncePerEpisode()
    {
        var exporter = new InMemoryExporter { FailuresLeft = int.MaxValue };
        var logger = new FakeLogger();
        await using DataExporter pipeline = Create(exporter, o => { o.MaxEventInMemory = 2; o.MaxBufferedEvents = 4; }, logger);

        Assert.All(Enumerable.Range(0, 4), i => Assert.True(pipeline.Add(TestEvents.Feature(i))));
        Assert.All(Enumerable.Range(4, 3), i => Assert.False(pipeline.Add(TestEvents.Feature(i))));
        Assert.Equal(3, pipeline.DroppedCount);
        await TestEvents.WaitUntilAsync(() => Count(logger, Log.Ids.BufferFull) == 1, "the buffer-full warning was logged");

        exporter.FailuresLeft = 0;
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, Count(logger, Log.Ids.BufferFull));
        Assert.Equal(1, Count(logger, Log.Ids.BufferRecovered));
        Assert.Equal([0L, 1, 2, 3], exporter.Ids); // the old events were kept, the new ones dropped

        exporter.FailuresLeft = int.MaxValue;
        Assert.All(Enumerable.Range(10, 4), i => Assert.True(pipeline.Add(TestEvents.Feature(i))));
        Assert.False(pipeline.Add(TestEvents.Feature(14)));
        await TestEvents.WaitUntilAsync(() => Count(logger, Log.Ids.BufferFull) == 2, "a second episode logged a new warning");
        Assert.Equal(4, pipeline.DroppedCount);
        exporter.FailuresLeft = 0; // let disposal drain without the fake clock moving
    }

    [Fact]
    public async Task Add_EventOfTheOtherType_IsIgnored()
    {
        var exporter = new InMemoryExporter();
        await using DataExporter features = Create(exporter);

        Assert.False(features.Add(TestEvents.Tracking(1)));
        Assert.True(features.Add(TestEvents.Feature(2)));
        await features.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal([2L], exporter.Ids);
        Assert.Equal(0, features.DroppedCount);
    }

    [Fact]
    public async Task Add_TypedAndUntypedOverloads_KeepTheSameContract()
    {
        var exporter = new InMemoryExporter();
        await using DataExporter features = Create(exporter);
        await using DataExporter tracking = Create(exporter, o => o.EventType = EventType.Tracking);

        // Add(FeatureEvent) and Add(TrackingEvent) know the type from the argument, Add(ExportableEvent) from the event.
        Assert.False(features.Add(TestEvents.Tracking(1)));
        Assert.False(features.Add((ExportableEvent)TestEvents.Tracking(2)));
        Assert.False(tracking.Add(TestEvents.Feature(3)));
        Assert.False(tracking.Add((ExportableEvent)TestEvents.Feature(4)));
        Assert.True(features.Add(TestEvents.Feature(5)));
        Assert.True(features.Add((ExportableEvent)TestEvents.Feature(6)));
        Assert.True(tracking.Add(TestEvents.Tracking(7)));
        Assert.True(tracking.Add((ExportableEvent)TestEvents.Tracking(8)));
        Assert.Throws<ArgumentNullException>(() => features.Add((FeatureEvent)null!));
        Assert.Throws<ArgumentNullException>(() => features.Add((TrackingEvent)null!));
        Assert.Throws<ArgumentNullException>(() => features.Add((ExportableEvent)null!));
        await features.FlushAsync(TestContext.Current.CancellationToken);
        await tracking.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal([5L, 6L, 7L, 8L], exporter.Ids.Order());
        Assert.Equal(0, features.DroppedCount + tracking.DroppedCount);
    }

    [Fact]
    public async Task Constructor_TypedExporterThatWritesNoFiles_IsCheckedAgainstThePipelinesType()
    {
        var tracking = new TrackingOnlyExporter();

        var error = Assert.Throws<ArgumentException>(() => new DataExporter(tracking, new DataExporterOptions(), name: "db"));
        Assert.StartsWith("Exporter 'db' was built for Tracking events, but its pipeline's EventType is Feature", error.Message, StringComparison.Ordinal);

        await using var pipeline = new DataExporter(tracking, new DataExporterOptions { EventType = EventType.Tracking }, name: "db");
        Assert.True(pipeline.Add(TestEvents.Tracking(1)));
    }

    private sealed class TrackingOnlyExporter : ITypedExporter
    {
        public EventType EventType => EventType.Tracking;

        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public async Task Add_TrackingPipeline_AcceptsOnlyTrackingEvents()
    {
        var exporter = new InMemoryExporter();
        await using DataExporter tracking = Create(exporter, o => o.EventType = EventType.Tracking);

        Assert.False(tracking.Add(TestEvents.Feature(1)));
        Assert.True(tracking.Add(TestEvents.Tracking(2)));
        await tracking.FlushAsync(TestContext.Current.CancellationToken);

        Assert.IsType<TrackingEvent>(Assert.Single(exporter.Batches.SelectMany(b => b)));
    }

    [Fact]
    public async Task FlushAsync_DrainsEverythingBuffered()
    {
        var exporter = new InMemoryExporter();
        await using DataExporter pipeline = Create(exporter, o => o.MaxEventInMemory = 100);
        for (int i = 0; i < 250; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(250, exporter.EventCount);
        Assert.Equal(0, pipeline.BufferedCount);
    }

    [Fact]
    public async Task FlushAsync_NothingBuffered_CompletesAtOnce()
    {
        var exporter = new InMemoryExporter();
        await using DataExporter pipeline = Create(exporter);

        Assert.True(pipeline.FlushAsync(TestContext.Current.CancellationToken).IsCompletedSuccessfully);
        Assert.Equal(0, exporter.Calls);
    }

    [Fact]
    public async Task DisposeAsync_DrainsEverythingAndAddReturnsFalseAfterwards()
    {
        var exporter = new InMemoryExporter();
        DataExporter pipeline = Create(exporter, o => o.MaxEventInMemory = 100);
        for (int i = 0; i < 250; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        await pipeline.DisposeAsync();

        Assert.Equal(Enumerable.Range(0, 250).Select(i => (long)i), exporter.Ids);
        Assert.False(pipeline.Add(TestEvents.Feature(999)));
        int calls = exporter.Calls;
        await pipeline.DisposeAsync(); // idempotent
        Assert.Equal(calls, exporter.Calls); // the exporter is not called after disposal
        Assert.Equal(0, pipeline.NotWrittenCount);
    }

    [Fact]
    public async Task DisposeAsync_AlwaysFailingExporter_CompletesAtTheDeadlineAndReportsWhatWasNotWritten()
    {
        var exporter = new AlwaysFailingExporter();
        var logger = new FakeLogger();
        DataExporter pipeline = Create(exporter, o => o.ShutdownTimeout = TimeSpan.FromSeconds(10), logger);
        for (int i = 0; i < 7; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        await TestEvents.AdvanceUntilCompletedAsync(_time, pipeline.DisposeAsync().AsTask(), TimeSpan.FromMilliseconds(100));

        Assert.Equal(7, pipeline.NotWrittenCount);

        // Retried with backoff until the 10 s deadline, then stopped: the delays (at least 0.8, 1.6, 3.2 and 6.4 s) allow
        // five attempts at most. How many of them happen depends on how fast the worker runs while the fake clock moves
        // (real time), so only the bound is asserted here; ExportRetryPolicyTests pins the schedule itself.
        Assert.InRange(exporter.Calls, 1, 5);
        FakeLogRecord error = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == Log.Ids.EventsNotWritten);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.Contains("7 events not written", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_ExporterIgnoringCancellation_IsAbandonedAtTheDeadline()
    {
        var exporter = new BlockingExporter(honourCancellation: false);
        DataExporter pipeline = Create(exporter, o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        _ = pipeline.Add(TestEvents.Feature(1));

        Task dispose = pipeline.DisposeAsync().AsTask();
        await exporter.Started;
        await TestEvents.AdvanceUntilCompletedAsync(_time, dispose, TimeSpan.FromSeconds(1));

        Assert.Equal(1, pipeline.NotWrittenCount);
    }

    [Fact]
    public async Task ExportTimeout_CancelsAHungExporterAndKeepsTheBatch()
    {
        var exporter = new BlockingExporter();
        var logger = new FakeLogger();
        DataExporter pipeline = Create(exporter, o => o.ExportTimeout = TimeSpan.FromSeconds(5), logger);
        _ = pipeline.Add(TestEvents.Feature(1));

        Task flush = pipeline.FlushAsync(TestContext.Current.CancellationToken);
        await exporter.Started;
        _time.Advance(TimeSpan.FromSeconds(5));

        await exporter.Cancelled;
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => flush);
        Assert.Equal(1, Count(logger, Log.Ids.ExportTimedOut));
        Assert.Equal(1, pipeline.BufferedCount);
        await TestEvents.AdvanceUntilCompletedAsync(_time, pipeline.DisposeAsync().AsTask(), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Worker_DoesNotSeeTheCreatorsExecutionContext()
    {
        var local = new AsyncLocal<string?>();
        string? seen = "unset";
        var exporter = new CallbackExporter(() => seen = local.Value);
        local.Value = "creator";
        await using DataExporter pipeline = Create(exporter, o => o.MaxEventInMemory = 1);
        local.Value = null;

        _ = pipeline.Add(TestEvents.Feature(1));
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Null(seen);
    }

    [Theory]
    [InlineData(nameof(DataExporterOptions.FlushInterval), "DataExporterOptions:FlushInterval must be greater than zero; got '00:00:00'.")]
    [InlineData(nameof(DataExporterOptions.MaxEventInMemory), "DataExporterOptions:MaxEventInMemory must be greater than zero; got '0'.")]
    [InlineData(nameof(DataExporterOptions.MaxBufferedEvents), "DataExporterOptions:MaxBufferedEvents must be at least MaxEventInMemory (100000); got '10'.")]
    [InlineData(nameof(DataExporterOptions.EventType), "DataExporterOptions:EventType must be one of Feature, Tracking; got '7'.")]
    [InlineData(nameof(DataExporterOptions.ShutdownTimeout), "DataExporterOptions:ShutdownTimeout must be greater than zero; got '-00:00:01'.")]
    [InlineData(nameof(DataExporterOptions.ExportTimeout), "DataExporterOptions:ExportTimeout must be greater than zero; got '00:00:00'.")]
    public void Constructor_InvalidOption_ThrowsNamingTheOptionAndValue(string option, string expected)
    {
        var options = new DataExporterOptions();
        switch (option)
        {
            case nameof(DataExporterOptions.FlushInterval): options.FlushInterval = TimeSpan.Zero; break;
            case nameof(DataExporterOptions.MaxEventInMemory): options.MaxEventInMemory = 0; options.MaxBufferedEvents = 1; break;
            case nameof(DataExporterOptions.MaxBufferedEvents): options.MaxBufferedEvents = 10; break;
            case nameof(DataExporterOptions.EventType): options.EventType = (EventType)7; break;
            case nameof(DataExporterOptions.ShutdownTimeout): options.ShutdownTimeout = TimeSpan.FromSeconds(-1); break;
            case nameof(DataExporterOptions.ExportTimeout): options.ExportTimeout = TimeSpan.Zero; break;
        }

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => new DataExporter(new InMemoryExporter(), options, _time));

        Assert.Equal(expected, Assert.Single(error.Failures));
    }

    [Fact]
    public async Task Metrics_CountAddedExportedDroppedFlushesAndFailures()
    {
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory meterFactory = services.GetRequiredService<IMeterFactory>();
        using var added = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, PipelineMetrics.EventsAddedName);
        using var exported = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, PipelineMetrics.EventsExportedName);
        using var dropped = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, PipelineMetrics.EventsDroppedName);
        using var flushes = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, PipelineMetrics.FlushesName);
        using var failures = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, PipelineMetrics.FailuresName);
        using var batchSizes = new MetricCollector<int>(meterFactory, PipelineMetrics.MeterName, PipelineMetrics.BatchSizeName);
        using var durations = new MetricCollector<double>(meterFactory, PipelineMetrics.MeterName, PipelineMetrics.FlushDurationName);
        var exporter = new InMemoryExporter { FailuresLeft = 1 };
        await using var pipeline = new DataExporter(exporter, new DataExporterOptions { MaxEventInMemory = 5, MaxBufferedEvents = 5 }, _time, meterFactory: meterFactory, name: "metered");

        for (int i = 0; i < 6; i++)
        {
            _ = pipeline.Add(TestEvents.Feature(i));
        }

        await TestEvents.WaitUntilAsync(() => exporter.Calls == 1, "the size trigger tried once");
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);
        added.RecordObservableInstruments();
        dropped.RecordObservableInstruments();

        Assert.Equal(5, added.LastMeasurement!.Value);
        Assert.Equal("metered", added.LastMeasurement.Tags[PipelineMetrics.ExporterTag]);
        Assert.Equal(1, dropped.GetMeasurementSnapshot().Single(m => (string?)m.Tags[PipelineMetrics.ReasonTag] == "buffer_full").Value);
        Assert.Equal(5, exported.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, flushes.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, failures.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(5, Assert.Single(batchSizes.GetMeasurementSnapshot()).Value);
        Assert.Equal(2, durations.GetMeasurementSnapshot().Count);
        Assert.All(exported.GetMeasurementSnapshot(), m => Assert.Equal("metered", m.Tags[PipelineMetrics.ExporterTag]));
    }

    private static int Count(FakeLogger logger, int eventId) => logger.Collector.GetSnapshot().Count(r => r.Id.Id == eventId);

    private DataExporter Create(IExporter exporter, Action<DataExporterOptions>? configure = null, ILogger? logger = null)
    {
        var options = new DataExporterOptions { FlushInterval = Interval, MaxEventInMemory = 10 };
        configure?.Invoke(options);
        return new DataExporter(exporter, options, _time, logger, name: "test");
    }

    private sealed class CallbackExporter(Action onExport) : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            onExport();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Add_SizeTriggerRearmedAfterEachExport_NeverMissesAWakeUp()
    {
        // Each Add crosses MaxEventInMemory = 1 right after the worker re-armed the trigger: without a full fence in the
        // re-arm, a wake-up was lost within a few thousand rounds and the event waited for the next interval (an hour).
        var exporter = new InMemoryExporter();
        await using var pipeline = new DataExporter(
            exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), MaxEventInMemory = 1 }, new FakeTimeProvider());

        const int Rounds = 20_000;
        for (int i = 0; i < Rounds; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i)));
            var waited = Stopwatch.StartNew();
            while (pipeline.ExportedCount <= i)
            {
                // A generous cap that only a lost wake-up reaches; not a timing assertion.
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"Event {i} was not exported: the size trigger did not wake the worker.");
                Thread.SpinWait(20);
            }
        }

        Assert.Equal(Rounds, pipeline.ExportedCount);
    }

    [Fact]
    public async Task DisposeAsync_AbandonsAHungExporter_WithoutClearingTheListItStillReads()
    {
        var time = new FakeTimeProvider();
        var exporter = new HoldingExporter();
        var pipeline = new DataExporter(exporter, new DataExporterOptions { ShutdownTimeout = TimeSpan.FromSeconds(5), MaxEventInMemory = 10 }, time);
        for (int i = 0; i < 3; i++)
        {
            pipeline.Add(TestEvents.Feature(i));
        }

        Task dispose = pipeline.DisposeAsync().AsTask();
        IReadOnlyList<ExportableEvent> held = await exporter.Started.Task;
        await TestEvents.AdvanceUntilCompletedAsync(time, dispose, TimeSpan.FromSeconds(1));

        Assert.Equal([0L, 1, 2], held.Select(e => e.CreationDate));
        Assert.Equal(3, pipeline.NotWrittenCount);
    }

    [Fact]
    public async Task Add_AfterDispose_IsRefusedCountedAndLoggedOnce()
    {
        var logger = new FakeLogger();
        var pipeline = new DataExporter(new InMemoryExporter(), new DataExporterOptions(), new FakeTimeProvider(), logger);
        await pipeline.DisposeAsync();

        Assert.False(pipeline.Add(TestEvents.Feature(1)));
        Assert.False(pipeline.Add(TestEvents.Feature(2)));

        Assert.Equal(2, pipeline.RefusedAfterStopCount);
        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "AddedAfterStop");
        Assert.Contains("refuses new events", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_DisposedPipelineOnASharedMeterFactory_ReportsNothingMore()
    {
        // The factory caches the meter by name and tags: a new pipeline with the same name shares it with the old one.
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory factory = services.GetRequiredService<IMeterFactory>();
        using var added = new MetricCollector<long>(factory, PipelineMetrics.MeterName, PipelineMetrics.EventsAddedName);
        var first = new DataExporter(new InMemoryExporter(), new DataExporterOptions(), new FakeTimeProvider(), meterFactory: factory, name: "p");
        first.Add(TestEvents.Feature(1));
        await first.DisposeAsync();
        await using var second = new DataExporter(new InMemoryExporter(), new DataExporterOptions(), new FakeTimeProvider(), meterFactory: factory, name: "p");
        second.Add(TestEvents.Feature(2));
        second.Add(TestEvents.Feature(3));

        added.RecordObservableInstruments();

        Assert.Equal([2L], added.GetMeasurementSnapshot().Select(m => m.Value));
    }

    private sealed class HoldingExporter : IExporter
    {
        public TaskCompletionSource<IReadOnlyList<ExportableEvent>> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            IReadOnlyList<ExportableEvent> events = batch.Events;
            Started.TrySetResult(events);
            await Task.Delay(Timeout.Infinite, CancellationToken.None); // ignores its token, like a stuck upload
        }
    }
}

using System.Diagnostics.Metrics;
using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Durability;

/// <summary>
/// The one way into the durable buffer: a request kept whole or not at all; added events bounded, appended once each
/// (in slices when large), retried while the buffer refuses them, and flushed only once on disk.
/// </summary>
public sealed class DurableAppenderTests : IDisposable
{
    private readonly TempDirectory _folder = new();
    private readonly FakeLogger _logger = new();

    public void Dispose() => _folder.Dispose();

    private string BufferDirectory => Path.Combine(_folder.Path, "buffer");

    [Fact]
    public async Task AcceptAsync_ARequestTheBufferHasNoRoomFor_KeepsNoneOfItsEvents_AndSaysFull()
    {
        await using DurableEventStore store = Open(out _);
        await using DurableAppender appender = Create(store);
        long kept = await FillAsync(appender);
        long position = store.DurablePosition;

        // Some of these would fit; none is kept.
        EventIntakeResult result = await appender.AcceptAsync([.. Enumerable.Range(0, 50).Select(i => Event(i, 1_000))], TestContext.Current.CancellationToken);

        Assert.Equal(EventIntakeOutcome.Full, result.Outcome);
        Assert.Equal(0, result.Accepted);
        Assert.Equal($"The durable buffer is full (maxBufferBytes = {store.MaxBytes}); nothing was accepted, send the events again later.", result.Refusal);
        Assert.Equal(position, store.DurablePosition);
        await store.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal(kept, ReadKeys(store, 0).Count);
        Assert.Contains("full", appender.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcceptAsync_ARequestLargerThanTheBufferEverTakes_IsTooLarge_NamingTheLimit_AndKeepsNothing()
    {
        await using DurableEventStore store = Open(out _);
        await using DurableAppender appender = Create(store);

        EventIntakeResult result = await appender.AcceptAsync([Event(0, 2_000_000)], TestContext.Current.CancellationToken);

        Assert.Equal(EventIntakeOutcome.TooLarge, result.Outcome);
        Assert.Contains($"more than one request can ever take there: at most {store.MaxAppendBytes} bytes (maxBufferBytes = {store.MaxBytes}", result.Refusal, StringComparison.Ordinal);
        Assert.Equal(0, store.DurablePosition);
    }

    [Fact]
    public async Task AcceptAsync_EventsOfATypeNoExporterTakes_AreLeftOutAndCounted_TheOthersKept()
    {
        await using DurableEventStore store = Open(out _);
        await using DurableAppender appender = Create(store); // feature exporters only

        EventIntakeResult result = await appender.AcceptAsync([Event(0, 10), TestEvents.Tracking(1), Event(2, 10)], TestContext.Current.CancellationToken);

        Assert.Equal(EventIntakeOutcome.Accepted, result.Outcome);
        Assert.Equal((2, 1), (result.Accepted, result.NotExported));
        Assert.Equal(["user-0", "user-2"], ReadKeys(store, 0));
    }

    [Fact]
    public async Task FlushAsync_CompletesOnceTheAddedEventsAreOnDisk_EachOnceInOrder()
    {
        await using DurableEventStore store = Open(out _);
        await using DurableAppender appender = Create(store);
        for (int i = 0; i < 1_000; i++)
        {
            Assert.True(appender.TryAdd(Event(i, 10), EventType.Feature));
        }

        await appender.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(1_000, store.DurablePosition); // durable, not only appended
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => $"user-{i}"), ReadKeys(store, 0));
        Assert.Equal(0, appender.QueuedCount);
    }

    [Fact]
    public async Task TryAdd_MoreWaitingThanOneAppendCanTake_IsAppendedInSlices_EachEventOnceInOrder()
    {
        // 4 MiB, one append at most 3.5 MiB (4 MiB less the active segment); 1,900 events of 2 KB (3.9 MB) wait while
        // the loop holds a refused one, then it takes them in one batch, which it must append in slices.
        await using DurableEventStore store = DurableEventStore.Open(BufferDirectory, 4L << 20);
        ExporterCursor cursor = store.OpenCursor("x", EventType.Feature);
        store.AllCursorsOpened();
        await using DurableAppender appender = Create(store);
        _ = await FillAsync(appender);
        long full = store.DurablePosition;
        Assert.True(appender.TryAdd(Event(-1, 20_000), EventType.Feature));
        await TestEvents.WaitUntilAsync(() => _logger.Collector.GetSnapshot().Any(r => r.Id.Name == "AppendRefused"), "the loop holds a refused append");
        FeatureEvent[] events = [.. Enumerable.Range(0, 1_900).Select(i => Event(i, 2_000))];
        Assert.True(events.Length * 2_000L > store.MaxAppendBytes, "the waiting events must not fit one append");
        foreach (FeatureEvent e in events)
        {
            Assert.True(appender.TryAdd(e, EventType.Feature));
        }

        // An exporter reading behind the appender frees the room the slices need.
        using var stop = new CancellationTokenSource();
        Task<List<string>> exported = ConsumeAsync(store, cursor, full, stop.Token);
        await appender.FlushAsync(TestContext.Current.CancellationToken);
        long end = store.DurablePosition;
        await TestEvents.WaitUntilAsync(() => Volatile.Read(ref _consumed) >= end, "the reader reaches the end");
        await stop.CancelAsync();

        Assert.Equal(["user--1", .. events.Select(e => e.UserKey)], await exported);
    }

    private long _consumed;

    /// <summary>Reads the records from <paramref name="from"/> as they become durable, committing each so that its segment is released.</summary>
    private Task<List<string>> ConsumeAsync(DurableEventStore store, ExporterCursor cursor, long from, CancellationToken stop) => Task.Run(async () =>
    {
        var keys = new List<string>();
        using SegmentLogReader reader = store.Log.OpenReader(from);
        while (!stop.IsCancellationRequested)
        {
            bool read = false;
            while (reader.NextPosition < store.DurablePosition && reader.TryRead(out _, out byte tag, out ReadOnlySpan<byte> payload))
            {
                keys.Add(EventRecordCodec.Read(tag, payload).UserKey);
                read = true;
            }

            cursor.Commit(reader.NextPosition);
            store.Release();
            Volatile.Write(ref _consumed, reader.NextPosition);
            if (!read)
            {
                try
                {
                    await store.Log.WaitForDataAsync(reader.NextPosition, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        return keys;
    });

    [Fact]
    public async Task TryAdd_ManyProducersAgainstABoundedQueue_EveryAcceptedEventIsAppendedOnce_EveryOtherCounted()
    {
        const int Producers = 4, PerProducer = 50_000;
        await using DurableEventStore store = DurableEventStore.Open(BufferDirectory, 1L << 30);
        _ = store.OpenCursor("x", EventType.Feature);
        store.AllCursorsOpened();
        await using DurableAppender appender = Create(store, featureBound: 2_000);
        var accepted = new bool[Producers * PerProducer];

        await Task.WhenAll(Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (int i = 0; i < PerProducer; i++)
            {
                int n = (p * PerProducer) + i;
                accepted[n] = appender.TryAdd(Event(n, 10), EventType.Feature);
                if (i % 5_000 == 0)
                {
                    await Task.Yield(); // let the loop park and be woken again now and then
                }
            }
        }, TestContext.Current.CancellationToken)));
        await appender.FlushAsync(TestContext.Current.CancellationToken);

        List<string> appended = ReadKeys(store, 0);
        Assert.Equal(accepted.Select((a, n) => (a, n)).Where(x => x.a).Select(x => $"user-{x.n}").Order(StringComparer.Ordinal), appended.Order(StringComparer.Ordinal));
        Assert.Equal(accepted.Count(a => !a), appender.DroppedBufferFullCount);
        Assert.Equal(appended.Count, appender.AppendedCount);
    }

    [Fact]
    public async Task TryAdd_ToAnIdleAppender_WakesItWithoutAFlush_EveryTime()
    {
        await using DurableEventStore store = Open(out _);
        await using DurableAppender appender = Create(store);

        // Each event arrives once the loop has appended the one before and may be parked: a lost wake-up leaves it in memory.
        for (int i = 0; i < 200; i++)
        {
            Assert.True(appender.TryAdd(Event(i, 10), EventType.Feature));
            int expected = i + 1;
            await TestEvents.WaitUntilAsync(() => store.DurablePosition == expected, $"event {i} reaches the disk without a flush");
        }

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"user-{i}"), ReadKeys(store, 0));
    }

    [Fact]
    public async Task TryAdd_OneEventLargerThanAnyAppend_IsDroppedAndCounted_TheNextOneIsAppended()
    {
        await using DurableEventStore store = Open(out _);
        await using DurableAppender appender = Create(store);

        Assert.True(appender.TryAdd(Event(0, 2_000_000), EventType.Feature));
        Assert.True(appender.TryAdd(Event(1, 10), EventType.Feature));
        await appender.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["user-1"], ReadKeys(store, 0));
        Assert.Equal(1, appender.DroppedTooLargeCount);
        Assert.Equal(1, appender.DroppedCount);
        _ = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Name == "EventTooLarge" && r.Level == LogLevel.Error);
    }

    [Fact]
    public async Task TryAdd_WhileTheBufferIsFull_WaitsAndIsRetried_NothingLostOrDoubledOnceThereIsRoom_FlushWaitsForIt()
    {
        await using DurableEventStore store = Open(out ExporterCursor cursor);
        await using DurableAppender appender = Create(store);
        _ = await FillAsync(appender);
        long full = store.DurablePosition;

        // 200 KiB: more than the room left.
        for (int i = 0; i < 200; i++)
        {
            Assert.True(appender.TryAdd(Event(i, 1_000), EventType.Feature));
        }

        await TestEvents.WaitUntilAsync(() => _logger.Collector.GetSnapshot().Any(r => r.Id.Name == "AppendRefused"), "the loop's append is refused");
        Task flush = appender.FlushAsync(TestContext.Current.CancellationToken);
        Assert.False(flush.IsCompleted, "the events are not on disk");
        Assert.Equal(full, store.DurablePosition);
        Assert.Equal(200, appender.QueuedCount);

        // The exporter catches up: its segments are released and the next retry finds room.
        cursor.Commit(full);
        store.Release();
        await flush.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"user-{i}"), ReadKeys(store, full));
        Assert.Equal(full + 200, store.DurablePosition);
        Assert.Equal(0, appender.DroppedCount);
        Assert.Null(appender.LastFailure);
        IReadOnlyList<FakeLogRecord> records = _logger.Collector.GetSnapshot();
        _ = Assert.Single(records, r => r.Id.Name == "AppendRefused" && r.Level == LogLevel.Warning); // once, however many retries
        _ = Assert.Single(records, r => r.Id.Name == "AppendResumed");
    }

    [Fact]
    public async Task TryAdd_QueueHoldsItsBound_MoreAreDroppedAndCounted_OneWarning_InTheMetrics()
    {
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory meterFactory = services.GetRequiredService<IMeterFactory>();
        using var dropped = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, DurableAppenderMetrics.EventsDroppedName);
        using var queued = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, DurableAppenderMetrics.EventsQueuedName);
        using var refused = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, DurableAppenderMetrics.AppendsRefusedName);
        await using DurableEventStore store = Open(out _);
        await using DurableAppender appender = Create(store, featureBound: 50, meterFactory);
        _ = await FillAsync(appender);

        int accepted = 0;
        for (int i = 0; i < 60; i++)
        {
            accepted += appender.TryAdd(Event(i, 1_000), EventType.Feature) ? 1 : 0;
        }

        Assert.Equal(50, accepted);
        Assert.Equal(10, appender.DroppedBufferFullCount);
        Assert.Equal(10, appender.DroppedCount);
        await TestEvents.WaitUntilAsync(() => _logger.Collector.GetSnapshot().Any(r => r.Id.Name == "AddQueueFull"), "the drop is logged");
        _ = appender.TryAdd(Event(60, 1_000), EventType.Feature); // the same episode: no second warning
        dropped.RecordObservableInstruments();
        queued.RecordObservableInstruments();

        _ = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Name == "AddQueueFull" && r.Level == LogLevel.Warning);
        Assert.Equal(11, dropped.GetMeasurementSnapshot().Last(m => Equals(m.Tags[PipelineMetrics.ReasonTag], "buffer_full")).Value);
        Assert.Equal(50, queued.LastMeasurement!.Value);
        Assert.Contains(refused.GetMeasurementSnapshot(), m => Equals(m.Tags[DurableAppenderMetrics.RefusalTag], "buffer_full"));
    }

    [Fact]
    public async Task TryAdd_QueueFillsWhileAnAppendWaitsForAFullLog_TheDropIsWarnedAboutWithoutWaitingForTheLog()
    {
        await using DurableEventStore store = Open(out _);
        await using DurableAppender appender = Create(store, featureBound: 50);
        _ = await FillAsync(appender);
        for (int i = 0; (await appender.AcceptAsync([Event(200_000 + i, 1_000)], TestContext.Current.CancellationToken)).Outcome == EventIntakeOutcome.Accepted; i++)
        {
            // Not one more such event fits now.
        }

        // The loop takes this event and retries its append while the log stays full.
        Assert.True(appender.TryAdd(Event(0, 1_000), EventType.Feature));
        await TestEvents.WaitUntilAsync(() => _logger.Collector.GetSnapshot().Any(r => r.Id.Name == "AppendRefused"), "the append is refused");

        int accepted = 0;
        for (int i = 1; i < 60; i++)
        {
            accepted += appender.TryAdd(Event(i, 1_000), EventType.Feature) ? 1 : 0;
        }

        Assert.Equal(49, accepted);
        Assert.Equal(10, appender.DroppedBufferFullCount);
        await TestEvents.WaitUntilAsync(() => _logger.Collector.GetSnapshot().Any(r => r.Id.Name == "AddQueueFull"), "the drop is logged");
        _ = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Name == "AddQueueFull" && r.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task Shutdown_AddedEventsTheFullLogCannotTake_GivenUpAtTheTimeoutOnTheAppendersClock()
    {
        var time = new FakeTimeProvider();
        await using DurableEventStore store = Open(out _);
        await using var appender = new DurableAppender(store, featureBound: 50, trackingBound: null, TimeSpan.FromHours(1), time, _logger, meterFactory: null);
        _ = await FillAsync(appender);
        for (int i = 0; (await appender.AcceptAsync([Event(200_000 + i, 1_000)], TestContext.Current.CancellationToken)).Outcome == EventIntakeOutcome.Accepted; i++)
        {
            // Not one more such event fits now.
        }

        Assert.True(appender.TryAdd(Event(0, 1_000), EventType.Feature));
        await TestEvents.WaitUntilAsync(() => _logger.Collector.GetSnapshot().Any(r => r.Id.Name == "AppendRefused"), "the append is refused");

        Task shutdown = appender.ShutdownAsync(TestContext.Current.CancellationToken);
        Assert.False(shutdown.IsCompleted);
        time.Advance(TimeSpan.FromHours(1));

        await shutdown.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken); // an hour of wall clock before
        Assert.Equal(1, appender.NotAppendedCount);
    }

    /// <summary>A 1 MiB buffer (64 KiB segments) whose one exporter, x, reads feature events.</summary>
    private DurableEventStore Open(out ExporterCursor cursor)
    {
        DurableEventStore store = DurableEventStore.Open(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes);
        cursor = store.OpenCursor("x", EventType.Feature);
        store.AllCursorsOpened();
        return store;
    }

    private DurableAppender Create(DurableEventStore store, long featureBound = 10_000, IMeterFactory? meterFactory = null) =>
        new(store, featureBound, trackingBound: null, TimeSpan.FromSeconds(5), TimeProvider.System, _logger, meterFactory);

    /// <summary>Appends requests of ten 1 KiB events until one is refused; returns how many events were kept.</summary>
    private static async Task<long> FillAsync(DurableAppender appender)
    {
        long kept = 0;
        for (int request = 0; ; request++)
        {
            EventIntakeResult result = await appender.AcceptAsync([.. Enumerable.Range(0, 10).Select(i => Event(100_000 + (request * 10) + i, 1_000))], TestContext.Current.CancellationToken);
            if (result.Outcome == EventIntakeOutcome.Full)
            {
                return kept;
            }

            Assert.Equal(EventIntakeOutcome.Accepted, result.Outcome);
            kept += result.Accepted;
        }
    }

    /// <summary>The user keys of the durable records from <paramref name="from"/> on.</summary>
    private static List<string> ReadKeys(DurableEventStore store, long from)
    {
        using SegmentLogReader reader = store.Log.OpenReader(from);
        var userKeys = new List<string>();
        while (reader.NextPosition < store.DurablePosition && reader.TryRead(out _, out byte tag, out ReadOnlySpan<byte> payload))
        {
            userKeys.Add(EventRecordCodec.Read(tag, payload).UserKey);
        }

        return userKeys;
    }

    private static FeatureEvent Event(int i, int valueLength) => new()
    {
        UserKey = $"user-{i}", Key = "flag", Variation = "on", CreationDate = 1_700_000_000, Value = new string('v', valueLength),
    };
}

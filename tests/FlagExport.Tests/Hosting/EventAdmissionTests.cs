using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Hosting;

public sealed class EventAdmissionTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task TryAddAll_WhenEveryPipelineHasRoom_AddsEachEventToEveryPipelineOfItsType()
    {
        var featureA = new InMemoryExporter();
        var featureB = new InMemoryExporter();
        var tracking = new InMemoryExporter();
        await using DataExporter a = Create(featureA, 10);
        await using DataExporter b = Create(featureB, 10);
        await using DataExporter t = Create(tracking, 10, EventType.Tracking);
        var admission = new EventAdmission([a, b], [t]);

        EventAdmissionResult result = admission.TryAddAll([TestEvents.Feature(1), TestEvents.Tracking(2), TestEvents.Feature(3)]);

        Assert.Equal(ReserveOutcome.Reserved, result.Outcome);
        Assert.Equal(3, result.Added);
        Assert.Equal(0, result.NotExported);
        await Task.WhenAll(a.FlushAsync(TestContext.Current.CancellationToken), b.FlushAsync(TestContext.Current.CancellationToken), t.FlushAsync(TestContext.Current.CancellationToken));
        Assert.Equal([1L, 3], featureA.Ids);
        Assert.Equal([1L, 3], featureB.Ids);
        Assert.Equal([2L], tracking.Ids);
    }

    [Fact]
    public async Task TryAddAll_EventsOfATypeWithoutPipeline_AreCountedAsNotExported()
    {
        var feature = new InMemoryExporter();
        await using DataExporter a = Create(feature, 10);
        var admission = new EventAdmission([a], []);

        EventAdmissionResult result = admission.TryAddAll([TestEvents.Feature(1), TestEvents.Tracking(2)]);

        Assert.True(result.IsAdded);
        Assert.Equal(1, result.Added);
        Assert.Equal(1, result.NotExported);
        await a.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal([1L], feature.Ids);
    }

    [Fact]
    public async Task TryAddAll_WhenOnePipelineIsFull_KeepsNothingInAnyPipelineAndCountsNoDrop()
    {
        var roomy = new InMemoryExporter();
        var tight = new InMemoryExporter();
        await using DataExporter a = Create(roomy, 100);
        await using DataExporter b = Create(tight, 5);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(b.Add(TestEvents.Feature(-1 - i)));
        }

        var admission = new EventAdmission([a, b], []);

        EventAdmissionResult result = admission.TryAddAll([TestEvents.Feature(1), TestEvents.Feature(2), TestEvents.Feature(3)]);

        Assert.Equal(ReserveOutcome.Full, result.Outcome);
        Assert.Same(b, result.RefusedBy);
        Assert.Equal(3, result.RefusedCount);
        Assert.Equal(0, a.BufferedCount);
        Assert.Equal(3, b.BufferedCount);
        Assert.Equal(0, b.DroppedCount);
        await Task.WhenAll(a.FlushAsync(TestContext.Current.CancellationToken), b.FlushAsync(TestContext.Current.CancellationToken));
        Assert.Empty(roomy.Ids);
        Assert.Equal([-1L, -2, -3], tight.Ids);
    }

    [Fact]
    public async Task TryAddAll_WhenAReservationFailsAfterAnotherHeld_GivesTheHeldOneBackAsHoles()
    {
        // One pipeline listed twice: each bound check passes (6 of 10), the second reservation does not (12 of 10), so the
        // first is given back. The same path serves a pipeline filled by another producer between the check and the CAS.
        var exporter = new InMemoryExporter();
        await using DataExporter pipeline = Create(exporter, 10);
        var admission = new EventAdmission([pipeline, pipeline], []);

        EventAdmissionResult result = admission.TryAddAll([.. Enumerable.Range(1, 6).Select(i => TestEvents.Feature(i))]);

        Assert.Equal(ReserveOutcome.Full, result.Outcome);
        Assert.Equal(6, pipeline.Sequence); // the numbers stay taken, as holes
        Assert.True(pipeline.Add(TestEvents.Feature(100)));
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal([100L], exporter.Ids);
        Assert.Equal(0, pipeline.BufferedCount);
        Assert.Equal(0, pipeline.DroppedCount);
    }

    [Fact]
    public async Task TryAddAll_MoreEventsThanAPipelineEverHolds_IsNeverFits_AndReservesNothing()
    {
        await using DataExporter a = Create(new InMemoryExporter(), 100);
        await using DataExporter b = Create(new InMemoryExporter(), 2);
        var admission = new EventAdmission([a, b], []);

        EventAdmissionResult result = admission.TryAddAll([TestEvents.Feature(1), TestEvents.Feature(2), TestEvents.Feature(3)]);

        Assert.Equal(ReserveOutcome.NeverFits, result.Outcome);
        Assert.Same(b, result.RefusedBy);
        Assert.Equal(0, a.Sequence);
        Assert.Equal(0, b.Sequence);
    }

    [Fact]
    public async Task TryAddAll_AfterShutdown_IsStopped()
    {
        DataExporter a = Create(new InMemoryExporter(), 10);
        await a.DisposeAsync();

        EventAdmissionResult result = new EventAdmission([a], []).TryAddAll([TestEvents.Feature(1)]);

        Assert.Equal(ReserveOutcome.Stopped, result.Outcome);
    }

    [Fact]
    public async Task Release_StoresHolesThatTheWorkerRetiresWithoutExporting()
    {
        var exporter = new InMemoryExporter();
        await using DataExporter pipeline = Create(exporter, 10);
        Assert.True(pipeline.Add(TestEvents.Feature(1)));
        Assert.Equal(ReserveOutcome.Reserved, pipeline.TryReserve(4, out long start));
        Assert.True(pipeline.Add(TestEvents.Feature(2))); // reserved after the block: the block cannot be undone by lowering the sequence
        Assert.Equal(1, start);

        pipeline.Release(start, 4);
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal([1L, 2], exporter.Ids);
        Assert.Equal(0, pipeline.BufferedCount);
        Assert.Equal(ReserveOutcome.Reserved, pipeline.TryReserve(10, out long again)); // the holes' room is free again
        pipeline.Release(again, 10); // every reserved number must be stored before the pipeline is disposed
    }

    [Fact]
    public async Task TryReserve_RespectsTheBoundTogetherWithAdd()
    {
        await using DataExporter pipeline = Create(new InMemoryExporter(), 10);
        Assert.Equal(ReserveOutcome.Reserved, pipeline.TryReserve(8, out _));

        Assert.Equal(ReserveOutcome.Full, pipeline.TryReserve(3, out _));
        Assert.True(pipeline.Add(TestEvents.Feature(1)));
        Assert.True(pipeline.Add(TestEvents.Feature(2)));
        Assert.False(pipeline.Add(TestEvents.Feature(3)));
        pipeline.Release(0, 8); // every reserved number must be stored before the pipeline is disposed
    }

    [Fact]
    public async Task ConcurrentGroupsAndAdds_RacingForTheLastSlots_KeepEveryAcceptedGroupWholeAndExactlyOnce()
    {
        const int Threads = 4, GroupsPerThread = 200, GroupSize = 7;
        var roomyExporter = new HeldExporter();
        var tightExporter = new HeldExporter();
        await using DataExporter roomy = Create(roomyExporter, 2_000, maxBatch: 50);
        await using DataExporter tight = Create(tightExporter, 700, maxBatch: 50);
        var admission = new EventAdmission([roomy, tight], []);
        var accepted = new System.Collections.Concurrent.ConcurrentBag<long>();
        int refused = 0;

        // Adds race with the groups in the tight pipeline only, so it fills while the roomy one has room: groups that
        // pass the bounds check can then lose their reservation there and must give back the roomy one's.
        using var start = new Barrier(Threads + 1);
        Task adder = Task.Run(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            for (int i = 0; i < 2_000; i++)
            {
                _ = tight.Add(TestEvents.Feature(-1 - i));
            }
        }, TestContext.Current.CancellationToken);
        Task[] producers = [.. Enumerable.Range(0, Threads).Select(thread => Task.Run(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            for (int g = 0; g < GroupsPerThread; g++)
            {
                long group = (thread * GroupsPerThread) + g;
                ExportableEvent[] events = [.. Enumerable.Range(0, GroupSize).Select(i => TestEvents.Feature((group * GroupSize) + i))];
                EventAdmissionResult result = admission.TryAddAll(events);
                if (result.IsAdded)
                {
                    accepted.Add(group);
                }
                else
                {
                    Assert.Equal(ReserveOutcome.Full, result.Outcome);
                    _ = Interlocked.Increment(ref refused);
                }
            }
        }, TestContext.Current.CancellationToken))];
        await Task.WhenAll([adder, .. producers]);

        Assert.True(roomy.BufferedCount <= 2_000 && tight.BufferedCount <= 700, $"buffered {roomy.BufferedCount} and {tight.BufferedCount}");
        Assert.True(refused > 0, "the tight pipeline filled up");
        roomyExporter.Open();
        tightExporter.Open();
        await Task.WhenAll(roomy.FlushAsync(TestContext.Current.CancellationToken), tight.FlushAsync(TestContext.Current.CancellationToken));

        long[] expected = [.. accepted.SelectMany(g => Enumerable.Range(0, GroupSize).Select(i => (g * GroupSize) + i)).Order()];
        Assert.Equal(expected, roomyExporter.Ids.Order());
        Assert.Equal(expected, tightExporter.Ids.Where(id => id >= 0).Order());
        Assert.Equal(0, roomy.DroppedCount);
    }

    [Fact]
    public async Task NoRoomRefusal_OnlyWhenEveryTypeWithPipelinesHasOneWithoutRoomForOneEvent()
    {
        var held = new HeldExporter();
        await using DataExporter feature = Create(held, 5, maxBatch: 5);
        await using DataExporter tracking = Create(new InMemoryExporter(), 5, EventType.Tracking);
        var both = new EventAdmission([feature], [tracking]);
        var featureOnly = new EventAdmission([feature], []);
        Assert.Null(featureOnly.NoRoomRefusal());

        for (int i = 0; i < 5; i++)
        {
            Assert.True(feature.Add(TestEvents.Feature(i)));
        }

        // Tracking events would still be kept: a request must be parsed to know whether it holds any.
        Assert.Null(both.NoRoomRefusal());
        Assert.Equal(
            "The buffer of exporter 'test-Feature-5' has no room for more events (maxBufferedEvents = 5); nothing was accepted, send the events again later.",
            featureOnly.NoRoomRefusal());
        Assert.Equal(5L, feature.Sequence); // asking reserved nothing
        held.Open();
        await feature.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Null(featureOnly.NoRoomRefusal());
    }

    [Fact]
    public async Task NoRoomRefusal_AfterShutdown_SaysTheCollectorIsStopping()
    {
        DataExporter a = Create(new InMemoryExporter(), 10);
        await a.DisposeAsync();

        Assert.Equal("The collector is stopping; nothing was accepted, send the events again later.", new EventAdmission([a], []).NoRoomRefusal());
    }

    private DataExporter Create(IExporter exporter, int maxBuffered, EventType eventType = EventType.Feature, int maxBatch = 10) =>
        new(exporter, new DataExporterOptions
        {
            EventType = eventType,
            FlushInterval = TimeSpan.FromHours(1),
            MaxEventInMemory = Math.Min(maxBatch, maxBuffered),
            MaxBufferedEvents = maxBuffered,
        }, _time, name: $"test-{eventType}-{maxBuffered}");

    /// <summary>Holds every export until <see cref="Open"/>, so that nothing leaves the buffers meanwhile; then records.</summary>
    private sealed class HeldExporter : IExporter
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly System.Collections.Concurrent.ConcurrentQueue<long> _ids = new();

        public IEnumerable<long> Ids => _ids;

        public void Open() => _open.TrySetResult();

        public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            await _open.Task.WaitAsync(cancellationToken);
            foreach (ExportableEvent item in batch.Events)
            {
                _ids.Enqueue(item.CreationDate);
            }
        }
    }
}

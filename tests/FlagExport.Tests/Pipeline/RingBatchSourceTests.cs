using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport.Tests.Pipeline;

/// <summary>The in-memory batch source driven as the worker drives it, without a worker.</summary>
public sealed class RingBatchSourceTests
{
    [Fact]
    public void Take_SkipsReleasedPositions_AndRetireGivesTheirRoomBack()
    {
        RingBatchSource source = Create(maxBuffered: 4);
        Assert.True(source.TryAdd(TestEvents.Feature(1)));
        Assert.Equal(ReserveOutcome.Reserved, source.TryReserve(2, out long start));
        source.Release(start, 2);
        Assert.True(source.TryAdd(TestEvents.Feature(4)));

        Assert.False(source.TryAdd(TestEvents.Feature(5))); // the holes hold room until retired
        Assert.Equal(1, source.DroppedCount);
        Assert.Equal(2, source.AcceptedCount);

        var batch = new List<ExportableEvent>();
        BatchState state = source.Take(0, 4, batch, long.MaxValue);
        Assert.Equal(4, state.EndPosition);
        Assert.Equal([1L, 4], batch.Select(e => e.CreationDate));

        source.Commit(state.EndPosition);
        source.Retire(state.EndPosition);
        Assert.Equal(4, source.Retired);
        Assert.True(source.TryAdd(TestEvents.Feature(6)));
    }

    [Fact]
    public void Abandon_AtStop_LosesWhatWasNotWritten_AndTheClosedSourceRefusesEvents()
    {
        RingBatchSource source = Create(maxBuffered: 10);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(source.TryAdd(TestEvents.Feature(i)));
        }

        source.Close();

        Assert.False(source.TryAdd(TestEvents.Feature(9)));
        Assert.Equal(1, source.RefusedAfterStopCount);
        Assert.Equal(3, source.Sequence);
        Assert.Equal(3, source.Abandon(from: 0, count: 3));
    }

    private static RingBatchSource Create(int maxBuffered) =>
        new("ring", new DataExporterOptions { MaxEventInMemory = 10, MaxBufferedEvents = maxBuffered }, new WorkerSignal(), NullLogger.Instance);
}

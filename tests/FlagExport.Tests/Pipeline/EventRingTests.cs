using FlagExport.Tests.Pipeline.Fakes;

namespace FlagExport.Tests.Pipeline;

public sealed class EventRingTests
{
    [Fact]
    public void TryTake_BeforeTheProducerStored_ReturnsFalse()
    {
        var ring = new EventRing(capacity: 8);

        Assert.False(ring.TryTake(0, out _));
        ring.Write(1, TestEvents.Feature(1)); // number 0 reserved but not stored yet
        Assert.False(ring.TryTake(0, out _));
        ring.Write(0, TestEvents.Feature(0));

        Assert.True(ring.TryTake(0, out ExportableEvent? first));
        Assert.True(ring.TryTake(1, out ExportableEvent? second));
        Assert.Equal([0L, 1], [first.CreationDate, second.CreationDate]);
    }

    [Fact]
    public void WriteAndTryTake_ManyLapsAtFullCapacity_ReturnEventsInOrderAndRecycleSegments()
    {
        const long Capacity = (EventRing.SegmentSize * 2) + 5; // not a multiple of the segment size
        var ring = new EventRing(Capacity);
        long written = 0;
        long taken = 0;

        while (taken < Capacity * 10)
        {
            while (written - taken < Capacity)
            {
                ring.Write(written, TestEvents.Feature(written));
                written++;
            }

            for (int i = 0; i < 1_000 && taken < written; i++)
            {
                Assert.True(ring.TryTake(taken, out ExportableEvent? item));
                Assert.Equal(taken, item.CreationDate);
                taken++;
            }
        }

        // Segments are recycled: at most one per slot (4 for this capacity) plus a spare, however many laps.
        Assert.InRange(ring.SegmentsCreated, 3, 5);
    }

    [Fact]
    public void SegmentsCreated_FollowsTheHighWaterMarkNotTheCapacity()
    {
        var ring = new EventRing(capacity: 1_000_000);

        for (long s = 0; s < EventRing.SegmentSize * 20L; s++)
        {
            ring.Write(s, TestEvents.Feature(s));
            Assert.True(ring.TryTake(s, out _));
        }

        Assert.InRange(ring.SegmentsCreated, 1, 2);
    }
}

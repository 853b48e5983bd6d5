using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace FlagExport;

/// <summary>
/// The pipeline's buffer: events stored by sequence number in pooled fixed-size segments, written by many producers
/// and read by one consumer (the worker), without locks on the hot path and without allocation once warm.
/// </summary>
/// <remarks>
/// <para>Event number <c>s</c> lives in segment <c>s / SegmentSize</c>, which sits in slot
/// <c>(s / SegmentSize) mod slots</c>. There are enough slots for <see cref="Capacity"/> events plus one partly used
/// segment, so the segment a producer needs is either installed or its slot is empty: the caller guarantees that
/// <c>s - retired &lt; Capacity</c> (the pipeline's CAS reservation does), and the worker releases a segment, nulling its
/// slot, when it takes the segment's last event, before it counts that event as retired.</para>
/// <para>A segment is rented from a small pool when its first producer arrives and returned by the worker when it is
/// empty, so memory follows the high-water mark of buffered events, not <see cref="Capacity"/>. The pool lock is taken
/// once per <see cref="SegmentSize"/> events.</para>
/// <para>Events come out in sequence order: the order in which producers reserved their numbers.</para>
/// </remarks>
internal sealed class EventRing
{
    /// <summary>log2 of <see cref="SegmentSize"/>.</summary>
    internal const int SegmentShift = 12;

    /// <summary>Events per segment (4,096 references, 32 KB: below the large object heap threshold).</summary>
    internal const int SegmentSize = 1 << SegmentShift;

    private const int OffsetMask = SegmentSize - 1;

    /// <summary>
    /// Stored in place of an event for a reserved number given back (see <see cref="RingBatchSource.Release"/>): the consumer
    /// takes it like an event, then skips it. Never handed to an exporter, so its kind does not matter.
    /// </summary>
    internal static readonly ExportableEvent Hole = new FeatureEvent();

    private readonly Segment?[] _slots;
    private readonly long _slotMask;
    private readonly Lock _poolGate = new();
    private readonly Stack<Segment> _pool = new();

    /// <summary>Creates a ring for at most <paramref name="capacity"/> events between the consumer and the producers.</summary>
    internal EventRing(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        ulong needed = (ulong)((capacity + OffsetMask) >> SegmentShift) + 1;
        int slots = checked((int)BitOperations.RoundUpToPowerOf2(needed));
        _slots = new Segment?[slots];
        _slotMask = slots - 1;
    }

    /// <summary>The most events held at once, as guaranteed by the caller.</summary>
    internal long Capacity { get; }

    /// <summary>How many segments exist (installed or pooled); for tests.</summary>
    internal int SegmentsCreated { get; private set; }

    /// <summary>Stores <paramref name="item"/> as event number <paramref name="sequence"/>. Safe from many threads.</summary>
    /// <remarks>The caller reserved <paramref name="sequence"/> and guarantees <c>sequence - retired &lt; Capacity</c>.</remarks>
    internal void Write(long sequence, ExportableEvent item)
    {
        long index = sequence >> SegmentShift;
        ref Segment? slot = ref _slots[index & _slotMask];
        Segment segment = Volatile.Read(ref slot) ?? Install(ref slot, index);
        Volatile.Write(ref segment.Items[sequence & OffsetMask].Item, item);
    }

    /// <summary>
    /// Reads event number <paramref name="sequence"/> if its producer has stored it, leaving it in place. Only the
    /// consumer calls this.
    /// </summary>
    internal bool TryPeek(long sequence, [NotNullWhen(true)] out ExportableEvent? item)
    {
        long index = sequence >> SegmentShift;
        Segment? segment = Volatile.Read(ref _slots[index & _slotMask]);
        item = segment is null || segment.Index != index ? null : Volatile.Read(ref segment.Items[(int)(sequence & OffsetMask)].Item);
        return item is not null;
    }

    /// <summary>
    /// Takes event number <paramref name="sequence"/> if its producer has stored it. Only the consumer calls this, in
    /// sequence order.
    /// </summary>
    internal bool TryTake(long sequence, [NotNullWhen(true)] out ExportableEvent? item)
    {
        long index = sequence >> SegmentShift;
        ref Segment? slot = ref _slots[index & _slotMask];
        Segment? segment = Volatile.Read(ref slot);
        if (segment is null || segment.Index != index)
        {
            item = null;
            return false; // the producer has not installed the segment yet
        }

        int offset = (int)(sequence & OffsetMask);
        item = Volatile.Read(ref segment.Items[offset].Item);
        if (item is null)
        {
            return false;
        }

        segment.Items[offset].Item = null;
        if (offset == OffsetMask)
        {
            // Every event of this segment is taken: free the slot for the segment one lap ahead, then recycle.
            Volatile.Write(ref slot, null);
            Return(segment);
        }

        return true;
    }

    private Segment Install(ref Segment? slot, long index)
    {
        Segment fresh = Rent();
        fresh.Index = index;
        Segment? winner = Interlocked.CompareExchange(ref slot, fresh, null);
        if (winner is null)
        {
            return fresh;
        }

        Return(fresh); // another producer of the same segment was first
        return winner;
    }

    private Segment Rent()
    {
        lock (_poolGate)
        {
            if (_pool.TryPop(out Segment? segment))
            {
                return segment;
            }

            SegmentsCreated++;
        }

        return new Segment();
    }

    private void Return(Segment segment)
    {
        lock (_poolGate)
        {
            _pool.Push(segment);
        }
    }

    /// <summary>A block of <see cref="SegmentSize"/> events; <see cref="Index"/> says which block of the sequence it holds.</summary>
    private sealed class Segment
    {
        // Structs, not an ExportableEvent[]: storing into an array of a non-sealed reference type costs a covariance
        // check per store (the runtime must verify the array really holds that type); a struct's field needs none.
        internal readonly Slot[] Items = new Slot[SegmentSize];

        internal long Index;
    }

    /// <summary>One event's place in a segment.</summary>
    private struct Slot
    {
        internal ExportableEvent? Item;
    }
}

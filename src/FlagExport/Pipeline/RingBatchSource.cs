using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace FlagExport;

/// <summary>
/// The in-memory batch source: producers reserve positions with one CAS on <see cref="_state"/> and store their events
/// in an <see cref="EventRing"/>; the worker takes them out in position order.
/// </summary>
/// <remarks>
/// <para><see cref="_state"/> counts the positions ever reserved; its sign bit is set once the source stops accepting
/// events (<see cref="BoundedReservation"/>). The one CAS enforces <see cref="DataExporterOptions.MaxBufferedEvents"/> exactly and
/// sees the closed bit, so no event is accepted after the drain's target is taken.</para>
/// <para>A full buffer drops the event and counts it; the first drop of an episode wakes the worker to log one warning,
/// and the episode ends once a retirement leaves room again.</para>
/// </remarks>
internal sealed class RingBatchSource : IBatchSource
{
    private readonly string _name;
    private readonly string _idScope;
    private readonly string _idPrefix = BatchState.NewInstancePrefix();
    private readonly long _maxBuffered;
    private readonly EventRing _ring;
    private readonly WorkerSignal _signal;
    private readonly ILogger _logger;

    // Written by producers, read by the worker.
    private long _state;
    private long _released;  // positions reserved and given back as holes: counted by _state, never exported
    private long _droppedBufferFull;
    private long _refusedAfterStop;
    private int _dropEpisode;  // 1 from the first drop until a retirement leaves room

    // Written by the worker only; read by producers (Volatile).
    private long _retired;
    private long _droppedReported;

    /// <summary>Creates an empty ring for <paramref name="options"/>' bounds; reaching a full batch wakes <paramref name="signal"/>.</summary>
    internal RingBatchSource(string name, DataExporterOptions options, WorkerSignal signal, ILogger logger)
    {
        _name = name;
        _idScope = BatchState.ScopeOf(name);
        _maxBuffered = options.EffectiveMaxBufferedEvents;
        _ring = new EventRing(_maxBuffered);
        _signal = signal;
        _logger = logger;
        Trigger = new SizeTrigger(signal, options.MaxEventInMemory);
    }

    /// <inheritdoc/>
    public long Sequence => BoundedReservation.Reserved(Volatile.Read(ref _state));

    /// <inheritdoc/>
    public long Retired => Volatile.Read(ref _retired);

    /// <inheritdoc/>
    public long AcceptedCount => Sequence - Volatile.Read(ref _released);

    /// <inheritdoc/>
    public long DroppedCount => Volatile.Read(ref _droppedBufferFull);

    /// <inheritdoc/>
    public long RefusedAfterStopCount => Volatile.Read(ref _refusedAfterStop);

    /// <inheritdoc/>
    public bool IsDurable => false;

    /// <inheritdoc/>
    public SizeTrigger Trigger { get; }

    /// <summary>The bound on buffered events.</summary>
    internal long MaxBuffered => _maxBuffered;

    /// <summary>
    /// Takes the next position for <paramref name="exportableEvent"/> and stores it; false when the buffer is full (the
    /// event is dropped and counted) or the source is closed. Never blocks, never allocates once the ring is warm.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryAdd(ExportableEvent exportableEvent)
    {
        ReserveOutcome outcome = BoundedReservation.TryReserve(ref _state, ref _retired, _maxBuffered, 1, out long state);
        if (outcome != ReserveOutcome.Reserved)
        {
            if (outcome == ReserveOutcome.Stopped)
            {
                OnRefusedAfterStop();
            }
            else
            {
                OnDropped();
            }

            return false;
        }

        // The number is reserved and within the bound, so its slot is free; the worker waits out the short gap until
        // this store when it reaches the number.
        _ring.Write(state, exportableEvent);
        Trigger.Reached(state + 1);
        return true;
    }

    /// <summary>
    /// Reserves positions <c>[start, start + count)</c> for <paramref name="count"/> events, within
    /// <see cref="DataExporterOptions.MaxBufferedEvents"/>, with the same single CAS as <see cref="TryAdd"/>: a reservation
    /// and concurrent adds never overfill the buffer together (see <see cref="EventAdmission"/>).
    /// </summary>
    /// <remarks>
    /// Every reserved position must then be stored, by <see cref="WriteReserved"/> or <see cref="Release"/>, and the block
    /// published by <see cref="Published"/>: the worker waits for each position it reaches.
    /// </remarks>
    internal ReserveOutcome TryReserve(int count, out long start)
    {
        if (count > _maxBuffered)
        {
            start = 0;
            return ReserveOutcome.NeverFits;
        }

        return BoundedReservation.TryReserve(ref _state, ref _retired, _maxBuffered, count, out start);
    }

    /// <summary>What <see cref="TryReserve"/> would answer now, reserving nothing (a hint: a concurrent producer can take the room).</summary>
    internal ReserveOutcome Probe(int count)
    {
        long state = Volatile.Read(ref _state);
        return state < 0 ? ReserveOutcome.Stopped
            : count > _maxBuffered ? ReserveOutcome.NeverFits
            : state + count - Volatile.Read(ref _retired) > _maxBuffered ? ReserveOutcome.Full
            : ReserveOutcome.Reserved;
    }

    /// <summary>Stores <paramref name="exportableEvent"/> as the reserved position <paramref name="sequence"/>.</summary>
    internal void WriteReserved(long sequence, ExportableEvent exportableEvent) => _ring.Write(sequence, exportableEvent);

    /// <summary>
    /// Gives back the reserved positions <c>[start, start + count)</c>: they are stored as holes, which the worker skips
    /// and retires without exporting. A reservation cannot be undone by lowering <see cref="Sequence"/>, because other
    /// producers may have reserved after it and the worker may already wait for these positions.
    /// </summary>
    internal void Release(long start, int count)
    {
        _ = Interlocked.Add(ref _released, count);
        for (long sequence = start, end = start + count; sequence < end; sequence++)
        {
            _ring.Write(sequence, EventRing.Hole);
        }

        Published(start + count);
    }

    /// <summary>Wakes the worker when the positions up to <paramref name="end"/>, now stored, reach the size trigger.</summary>
    internal void Published(long end) => Trigger.Reached(end);

    /// <inheritdoc/>
    public void Close() => BoundedReservation.Close(ref _state);

    /// <inheritdoc/>
    public BatchState Take(long first, long count, List<ExportableEvent> batch, long maxBatchBytes)
    {
        var spinner = default(SpinWait);
        long next = first;
        long end = first + count;
        long bytes = 0;
        while (next < end)
        {
            if (_ring.TryPeek(next, out ExportableEvent? item))
            {
                if (ReferenceEquals(item, EventRing.Hole))
                {
                    _ = _ring.TryTake(next, out _); // a refused request's reservation: retired, never exported
                    next++;
                    continue;
                }

                long size = EventSize.Bound(item);
                if (batch.Count > 0 && bytes + size > maxBatchBytes)
                {
                    break;
                }

                _ = _ring.TryTake(next, out _);
                batch.Add(item);
                bytes += size;
                next++;
            }
            else
            {
                // A producer reserved this position but has not stored the event yet: it is a few instructions away.
                spinner.SpinOnce();
            }
        }

        return BatchState.CreateInMemory(_idPrefix, _idScope, first, next);
    }

    /// <inheritdoc/>
    /// <remarks>Nothing outlives the process in memory.</remarks>
    public void SaveProgress()
    {
    }

    /// <inheritdoc/>
    /// <remarks>Nothing to record: retiring the positions is all.</remarks>
    public void Commit(long end)
    {
    }

    /// <inheritdoc/>
    public void Retire(long end)
    {
        Volatile.Write(ref _retired, end);

        // The drop episode ends once the buffer has room: the next drop logs a new warning.
        if (Volatile.Read(ref _dropEpisode) == 1 && Sequence - end < _maxBuffered)
        {
            Volatile.Write(ref _dropEpisode, 0);
            long dropped = DroppedCount;
            _logger.BufferRecovered(_name, dropped - _droppedReported);
            _droppedReported = dropped;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Releases the ring's hold on them; a producer still storing one is not waited for.</remarks>
    public long Abandon(long from, long count)
    {
        for (long next = from, end = Sequence; next < end && _ring.TryTake(next, out _); next++)
        {
        }

        return count;
    }

    private void OnRefusedAfterStop()
    {
        // Counted, and logged once: the worker is gone, so the first refusal logs on the caller's thread.
        if (Interlocked.Increment(ref _refusedAfterStop) == 1)
        {
            _logger.AddedAfterStop(_name);
        }
    }

    private void OnDropped()
    {
        _ = Interlocked.Increment(ref _droppedBufferFull);

        // One warning per episode: only the first drop since the buffer last had room wakes the worker to log it.
        if (Volatile.Read(ref _dropEpisode) == 0 && Interlocked.Exchange(ref _dropEpisode, 1) == 0)
        {
            _signal.Wake(WakeReasons.BufferFull);
        }
    }
}

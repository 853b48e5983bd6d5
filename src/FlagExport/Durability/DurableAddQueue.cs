namespace FlagExport.Durability;

/// <summary>
/// The events of one type that <see cref="IFlagEventSink.Add"/> accepted with the durable buffer on, waiting in memory
/// for <see cref="DurableAppender"/> to append them: many producers, one consumer (the appender's loop), bounded.
/// </summary>
/// <remarks>
/// <para>A producer reserves a number with one CAS on <c>_state</c> (which also carries the closed bit:
/// <see cref="BoundedReservation"/>), within <see cref="Bound"/> of what the consumer has retired, and stores the event in the <see cref="EventRing"/> under that
/// number: no lock and no allocation per event. A full queue refuses the event and counts it.</para>
/// <para>The consumer parks only after arming the wake-up number (the next one a producer will reserve) and checking
/// again that nothing arrived: the producer of that number, having reserved with a full fence, reads the armed value and
/// wakes it, so a wake-up is neither lost nor paid per event.</para>
/// </remarks>
internal sealed class DurableAddQueue
{
    private const long WakeDisarmed = long.MaxValue;

    private readonly EventRing _ring;
    private readonly WorkerSignal _signal;
    private long _state;      // reserved numbers, and the closed bit (BoundedReservation)
    private long _wakeAt = WakeDisarmed;
    private long _taken;      // consumer only
    private long _retired;    // written by the consumer: events appended durably or given up
    private long _dropped;    // refused because the queue was full
    private long _refusedClosed;
    private int _dropEpisode; // 1 from the first drop until the consumer has logged it

    /// <summary>Creates the queue of <paramref name="eventType"/> events, holding at most <paramref name="bound"/>.</summary>
    internal DurableAddQueue(EventType eventType, long bound, WorkerSignal signal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        EventType = eventType;
        TypeName = eventType == EventType.Feature ? "feature" : "tracking";
        Bound = bound;
        _ring = new EventRing(bound);
        _signal = signal;
    }

    /// <summary>The type of the events queued.</summary>
    internal EventType EventType { get; }

    /// <summary>The type's name in messages.</summary>
    internal string TypeName { get; }

    /// <summary>The most events held at once.</summary>
    internal long Bound { get; }

    /// <summary>The numbers reserved so far: every event accepted.</summary>
    internal long Reserved => BoundedReservation.Reserved(Volatile.Read(ref _state));

    /// <summary>The events appended durably or given up so far.</summary>
    internal long Retired => Volatile.Read(ref _retired);

    /// <summary>The events waiting now.</summary>
    internal long Count => Math.Max(0, Reserved - Retired);

    /// <summary>The events refused because the queue was full.</summary>
    internal long DroppedCount => Volatile.Read(ref _dropped);

    /// <summary>The events refused because the queue was closed (the application is stopping).</summary>
    internal long RefusedAfterCloseCount => Volatile.Read(ref _refusedClosed);

    /// <summary>Whether events were dropped since the consumer last took note (<see cref="TakeDropEpisode"/>).</summary>
    internal bool InDropEpisode => Volatile.Read(ref _dropEpisode) == 1;

    /// <summary>Queues <paramref name="exportableEvent"/>, or counts it dropped when the queue is full or closed. Never blocks.</summary>
    internal bool TryAdd(ExportableEvent exportableEvent)
    {
        ReserveOutcome outcome = BoundedReservation.TryReserve(ref _state, ref _retired, Bound, 1, out long state);
        if (outcome == ReserveOutcome.Stopped)
        {
            _ = Interlocked.Increment(ref _refusedClosed);
            return false;
        }

        if (outcome != ReserveOutcome.Reserved)
        {
            _ = Interlocked.Increment(ref _dropped);
            if (Volatile.Read(ref _dropEpisode) == 0 && Interlocked.Exchange(ref _dropEpisode, 1) == 0)
            {
                _signal.Wake(WakeReasons.BufferFull); // the consumer logs one warning per episode
            }

            return false;
        }

        _ring.Write(state, exportableEvent);
        long wakeAt = Volatile.Read(ref _wakeAt);
        if (state >= wakeAt && Interlocked.CompareExchange(ref _wakeAt, WakeDisarmed, wakeAt) == wakeAt)
        {
            _signal.Wake(WakeReasons.Size);
        }

        return true;
    }

    /// <summary>
    /// Consumer: arms the wake-up for the next event and says whether the queue is still empty (park) or an event came
    /// in meanwhile (the wake-up is disarmed again; take it).
    /// </summary>
    internal bool ArmWakeUp()
    {
        _ = Interlocked.Exchange(ref _wakeAt, _taken);
        if (Reserved > _taken)
        {
            Volatile.Write(ref _wakeAt, WakeDisarmed);
            return false;
        }

        return true;
    }

    /// <summary>Consumer: moves up to <c>into.Length</c> waiting events into <paramref name="into"/>, in order.</summary>
    /// <returns>How many were taken.</returns>
    internal int Take(ExportableEvent[] into)
    {
        long available = Math.Min(Reserved - _taken, into.Length);
        for (int i = 0; i < available; i++)
        {
            // The number is reserved; its producer stores the event a few instructions later.
            ExportableEvent? item;
            var spin = default(SpinWait);
            while (!_ring.TryTake(_taken, out item))
            {
                spin.SpinOnce();
            }

            into[i] = item;
            _taken++;
        }

        return (int)available;
    }

    /// <summary>Consumer: <paramref name="count"/> events taken are appended durably (or given up): their room is free.</summary>
    internal void Retire(int count) => Volatile.Write(ref _retired, _retired + count);

    /// <summary>Consumer: ends the drop episode, returning whether one was going on.</summary>
    internal bool TakeDropEpisode() => Interlocked.Exchange(ref _dropEpisode, 0) == 1;

    /// <summary>Refuses every later event; those accepted before stay to be appended.</summary>
    internal void Close() => BoundedReservation.Close(ref _state);
}

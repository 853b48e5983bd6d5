namespace FlagExport;

/// <content>
/// Reserving a block of sequence numbers for many events at once, so that a caller holding events that must be kept
/// together (a collector request) takes room in every pipeline before it writes into any (see <see cref="EventAdmission"/>).
/// </content>
public sealed partial class DataExporter
{
    // Sequence numbers reserved and then given back as holes: counted as accepted by _state, never exported.
    private long _released;

    /// <summary>
    /// Reserves sequence numbers <c>[start, start + count)</c> for <paramref name="count"/> events, within
    /// <see cref="DataExporterOptions.MaxBufferedEvents"/>, with the same single CAS as <c>Add</c>: a reservation and
    /// concurrent <c>Add</c> calls never overfill the buffer together. Memory mode only.
    /// </summary>
    /// <remarks>
    /// Every reserved number must then be stored, by <see cref="WriteReserved"/> or <see cref="Release"/>, and the block
    /// published by <see cref="Published"/>: the worker waits for each number it reaches.
    /// </remarks>
    internal ReserveOutcome TryReserve(int count, out long start)
    {
        start = 0;
        if (_durable is not null)
        {
            throw new InvalidOperationException($"Exporter '{Name}' reads the durable buffer: append events to the buffer, not to the pipeline.");
        }

        if (count > _maxBuffered)
        {
            return ReserveOutcome.NeverFits;
        }

        long state = Volatile.Read(ref _state);
        while (true)
        {
            if (state < 0)
            {
                return ReserveOutcome.Stopped;
            }

            if (state + count - Volatile.Read(ref _retired) > _maxBuffered)
            {
                return ReserveOutcome.Full;
            }

            long seen = Interlocked.CompareExchange(ref _state, state + count, state);
            if (seen == state)
            {
                start = state;
                return ReserveOutcome.Reserved;
            }

            state = seen;
        }
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

    /// <summary>Stores <paramref name="exportableEvent"/> as the reserved number <paramref name="sequence"/>.</summary>
    internal void WriteReserved(long sequence, ExportableEvent exportableEvent) => _ring.Write(sequence, exportableEvent);

    /// <summary>
    /// Gives back the reserved numbers <c>[start, start + count)</c>: they are stored as holes, which the worker skips and
    /// retires without exporting. A reservation cannot be undone by lowering <see cref="Sequence"/>, because other
    /// producers may have reserved after it and the worker may already wait for these numbers.
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

    /// <summary>Wakes the worker when the numbers up to <paramref name="end"/>, now stored, reach the size trigger.</summary>
    internal void Published(long end)
    {
        long wakeAt = Volatile.Read(ref _sizeWakeAt);
        if (end >= wakeAt && Interlocked.CompareExchange(ref _sizeWakeAt, SizeTriggerDisarmed, wakeAt) == wakeAt)
        {
            Wake(WakeReasons.Size);
        }
    }

    /// <summary>How many accepted events are real ones: the sequence less the holes of released reservations.</summary>
    private long AcceptedCount => Sequence - Volatile.Read(ref _released);
}

using System.Runtime.CompilerServices;

namespace FlagExport;

/// <summary>
/// The size trigger of a batch source: wakes the worker once when the source's end reaches the armed position, so a
/// full batch is exported without waiting for the interval.
/// </summary>
/// <remarks>
/// The worker arms it after each export (counted from where the export left off) and disarms it while one runs; the
/// producer (or durable notification) that reaches the armed position disarms it with one CAS, so there is one wake-up
/// per crossing however many producers cross at once.
/// </remarks>
internal sealed class SizeTrigger
{
    /// <summary>The armed position while disarmed: no position reaches it.</summary>
    private const long Disarmed = long.MaxValue;

    private readonly WorkerSignal _signal;
    private long _wakeAt;

    /// <summary>Creates the trigger armed at <paramref name="wakeAt"/>; reaching it wakes <paramref name="signal"/>.</summary>
    internal SizeTrigger(WorkerSignal signal, long wakeAt)
    {
        _signal = signal;
        _wakeAt = wakeAt;
    }

    /// <summary>Wakes the worker when <paramref name="end"/> reaches the armed position, once per crossing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Reached(long end)
    {
        long wakeAt = Volatile.Read(ref _wakeAt);
        if (end >= wakeAt && Interlocked.CompareExchange(ref _wakeAt, Disarmed, wakeAt) == wakeAt)
        {
            _signal.Wake(WakeReasons.Size);
        }
    }

    /// <summary>No size wake-up until <see cref="Arm"/>: the export running takes every full batch waiting anyway.</summary>
    internal void Disarm() => Volatile.Write(ref _wakeAt, Disarmed);

    /// <summary>Arms the trigger: the end that reaches <paramref name="wakeAt"/> wakes the worker; checks <paramref name="source"/>'s end at once.</summary>
    internal void Arm(long wakeAt, IBatchSource source)
    {
        // A full fence: the store must be visible before the end is read, or a producer that read "disarmed" and this
        // read of an old end could both skip the wake-up, and the wake-up would be lost.
        _ = Interlocked.Exchange(ref _wakeAt, wakeAt);

        // Producers that reached the threshold while the trigger was disarmed did not signal: check for them here.
        Reached(source.Sequence);
    }
}

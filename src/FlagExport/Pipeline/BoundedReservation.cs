using System.Runtime.CompilerServices;

namespace FlagExport;

/// <summary>
/// The one CAS that hands out the positions of a bounded buffer written by many producers (<see cref="RingBatchSource"/>,
/// <see cref="Durability.DurableAddQueue"/>): <c>state</c> counts the positions ever reserved, and its sign bit
/// (<see cref="ClosedBit"/>) is set once the buffer stops accepting; <c>retired</c> is where its consumer has freed up to.
/// </summary>
/// <remarks>
/// Invariant: <c>state - retired ≤ bound</c>. The closed bit and the count are one word, so no position is handed out
/// after <see cref="Close"/>, and a reservation and concurrent ones never overfill the buffer together.
/// </remarks>
internal static class BoundedReservation
{
    /// <summary>The sign bit of the state: set once the buffer stops accepting.</summary>
    internal const long ClosedBit = long.MinValue;

    /// <summary>The positions reserved so far, from a state.</summary>
    internal static long Reserved(long state) => state & ~ClosedBit;

    /// <summary>
    /// Reserves positions <c>[start, start + count)</c> when they fit within <paramref name="bound"/> of
    /// <paramref name="retired"/>; <see cref="ReserveOutcome.Full"/> when they do not now, <see cref="ReserveOutcome.Stopped"/>
    /// once closed. Never blocks, never allocates.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ReserveOutcome TryReserve(ref long state, ref long retired, long bound, long count, out long start)
    {
        long current = Volatile.Read(ref state);
        while (true)
        {
            if (current < 0)
            {
                start = 0;
                return ReserveOutcome.Stopped;
            }

            // A stale retired only makes the bound stricter for a moment; it never lets the buffer exceed it.
            if (current + count - Volatile.Read(ref retired) > bound)
            {
                start = 0;
                return ReserveOutcome.Full;
            }

            long seen = Interlocked.CompareExchange(ref state, current + count, current);
            if (seen == current)
            {
                start = current;
                return ReserveOutcome.Reserved;
            }

            current = seen;
        }
    }

    /// <summary>Sets the closed bit: every later reservation is refused; those made before stand.</summary>
    internal static void Close(ref long state) => _ = Interlocked.Or(ref state, ClosedBit);
}

using System.Buffers;

namespace FlagExport.Buffers;

/// <summary>
/// Batch-sized byte arrays (above 1 MiB), shared by all threads, bounded per size, and released when unused for a while.
/// </summary>
/// <remarks>
/// <para>Not <see cref="ArrayPool{T}.Shared"/>: it first keeps a returned array in the returning thread's own slot for
/// its size, and a batch is encoded on whichever thread-pool thread the worker resumes on, so it would keep about one
/// batch-sized array per thread alive on the large object heap until it trims arrays unused for a minute.</para>
/// <para>The arrays are held by a <see cref="ArrayPool{T}.Create(int, int)"/> pool (at most two of each power-of-two
/// size from 2 MiB to 1 GiB; larger requests get unpooled arrays of their exact length). That pool never trims, so after
/// each gen2 collection, when no array was rented for <see cref="IdleLimit"/>, it is replaced by an empty one and what
/// it held becomes garbage, reclaimed by the following gen2 collection: a process that stopped exporting gives the
/// memory back, one that exports steadily keeps the arrays it reuses. A pool emptied and not rented from since is not
/// replaced again. An array rented from a replaced pool and given back afterwards is dropped (a pool takes back
/// only as many arrays of a size as it handed out).</para>
/// </remarks>
internal static class LargeArrayPool
{
    /// <summary>Requests above this many bytes belong here; up to it, to the shared pool.</summary>
    internal const int Threshold = 1 << 20;

    /// <summary>
    /// How long the pool may go without a rent before the next gen2 collection empties it: several flush intervals (60 s
    /// by default), so that an exporter flushing on its interval keeps its arrays between batches.
    /// </summary>
    internal static readonly TimeSpan DefaultIdleLimit = TimeSpan.FromMinutes(5);

    private static long s_idleLimitMilliseconds = (long)DefaultIdleLimit.TotalMilliseconds;
    private static int s_trims;

    /// <summary>How long the pool may go without a rent before the next gen2 collection empties it; settable for tests.</summary>
    internal static TimeSpan IdleLimit
    {
        get => TimeSpan.FromMilliseconds(Volatile.Read(ref s_idleLimitMilliseconds));
        set => Volatile.Write(ref s_idleLimitMilliseconds, (long)value.TotalMilliseconds);
    }

    /// <summary>How many times the pool was emptied; for tests.</summary>
    internal static int Trims => Volatile.Read(ref s_trims);

    private static ArrayPool<byte> s_pool = NewPool();
    private static long s_lastRentTicks = Environment.TickCount64;
    private static int s_rentedSinceTrim; // 0 once emptied: an empty pool is not replaced again

    static LargeArrayPool() => _ = new Gen2Callback();

    /// <summary>An array of at least <paramref name="minimumLength"/> (above <see cref="Threshold"/>) bytes.</summary>
    internal static byte[] Rent(int minimumLength)
    {
        Volatile.Write(ref s_lastRentTicks, Environment.TickCount64);
        Volatile.Write(ref s_rentedSinceTrim, 1);
        return Volatile.Read(ref s_pool).Rent(minimumLength);
    }

    /// <summary>Gives back an array of more than <see cref="Threshold"/> bytes from <see cref="Rent"/>.</summary>
    internal static void Return(byte[] array) => Volatile.Read(ref s_pool).Return(array);

    /// <summary>
    /// Empties the pool when nothing was rented for <see cref="IdleLimit"/> before <paramref name="nowTicks"/>
    /// (<see cref="Environment.TickCount64"/>); called after gen2 collections, and by tests.
    /// </summary>
    /// <returns>Whether the pool was emptied.</returns>
    internal static bool TrimIfIdle(long nowTicks)
    {
        if (nowTicks - Volatile.Read(ref s_lastRentTicks) < Volatile.Read(ref s_idleLimitMilliseconds)
            || Interlocked.Exchange(ref s_rentedSinceTrim, 0) == 0)
        {
            return false;
        }

        Volatile.Write(ref s_pool, NewPool());
        _ = Interlocked.Increment(ref s_trims);
        return true;
    }

    private static ArrayPool<byte> NewPool() => ArrayPool<byte>.Create(maxArrayLength: 1 << 30, maxArraysPerBucket: 2);

    /// <summary>
    /// Finalized after every collection of the generation it lives in, then registered again: once promoted, that is
    /// after every gen2 collection. The runtime's own pools use the same device, which is not public.
    /// </summary>
    private sealed class Gen2Callback
    {
        ~Gen2Callback()
        {
            try
            {
                _ = TrimIfIdle(Environment.TickCount64);
            }
#pragma warning disable CA1031 // An exception escaping a finalizer ends the process; a trim that failed is tried at the next gen2.
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            GC.ReRegisterForFinalize(this);
        }
    }
}

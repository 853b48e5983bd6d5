namespace FlagExport.Tests.Formats;

/// <summary>Bytes an action allocates on the calling thread, measured so that the runtime's own rare allocations do not count.</summary>
internal static class ThreadAllocations
{
    /// <summary>
    /// Runs <paramref name="action"/> three times and returns the least it allocated on this thread. Now and then the
    /// runtime allocates a few KB on the thread itself (tiered compilation replacing a hot loop was seen to add 8 KB
    /// once), which a single measurement would blame on the code; the code's own allocations recur every run.
    /// </summary>
    public static async Task<long> LeastOfThreeAsync(Func<Task> action)
    {
        long least = long.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            await action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}

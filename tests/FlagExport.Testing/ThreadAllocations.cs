namespace FlagExport.Testing;

/// <summary>Bytes an action allocates on the calling thread, measured so that the runtime's own rare allocations do not count.</summary>
public static class ThreadAllocations
{
    /// <summary>
    /// Runs <paramref name="action"/> three times and returns the least it allocated on this thread: now and then the
    /// runtime allocates a few KB on the thread itself (tiered compilation replacing a hot loop), which a single
    /// measurement would blame on the code; the code's own allocations recur every run.
    /// </summary>
    public static Task<long> LeastOfThreeAsync(Func<Task> action) => LeastOfAsync(3, action);

    /// <summary>
    /// Runs <paramref name="action"/> <paramref name="runs"/> times and returns the least it allocated on this thread:
    /// for code whose buffers grow a bounded number of times (by doubling) whatever the timing, each growth counted
    /// against one run only, while an allocation per call or per item recurs in every run.
    /// </summary>
    public static async Task<long> LeastOfAsync(int runs, Func<Task> action)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        long least = long.MaxValue;
        for (int run = 0; run < runs; run++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Task task = action();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // Measured on one thread: an action that went asynchronous would have run partly elsewhere, unmeasured.
            Assert.True(task.IsCompletedSuccessfully, "The measured action did not complete synchronously; its allocations cannot be measured on this thread.");
            await task;
            least = Math.Min(least, allocated);
        }

        return least;
    }
}

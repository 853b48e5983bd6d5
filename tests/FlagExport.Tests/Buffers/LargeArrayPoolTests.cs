using FlagExport.Buffers;

namespace FlagExport.Tests.Buffers;

[Collection(nameof(LargeArrayPoolUsers))]
public sealed class LargeArrayPoolTests
{
    private const int Size = 24 * 1024 * 1024;

    [Fact]
    public void TrimIfIdle_SoonAfterARent_KeepsThePooledArrays()
    {
        byte[] first = LargeArrayPool.Rent(Size);
        LargeArrayPool.Return(first);

        Assert.False(LargeArrayPool.TrimIfIdle(Environment.TickCount64 + (long)(LargeArrayPool.IdleLimit.TotalMilliseconds / 2)));

        byte[] again = LargeArrayPool.Rent(Size);
        LargeArrayPool.Return(again);
        Assert.Same(first, again);
    }

    [Fact]
    public void TrimIfIdle_AfterTheIdleLimit_ReleasesThePooledArrays()
    {
        byte[] first = LargeArrayPool.Rent(Size);
        LargeArrayPool.Return(first);

        Assert.True(LargeArrayPool.TrimIfIdle(Environment.TickCount64 + (long)LargeArrayPool.IdleLimit.TotalMilliseconds + 1));

        byte[] fresh = LargeArrayPool.Rent(Size);
        Assert.NotSame(first, fresh);
        Assert.True(fresh.Length >= Size);
        LargeArrayPool.Return(fresh);
    }

    [Fact]
    public void Return_OfAnArrayRentedBeforeATrim_IsDropped_AndRentingGoesOn()
    {
        byte[] rented = LargeArrayPool.Rent(Size);
        Assert.True(LargeArrayPool.TrimIfIdle(long.MaxValue));

        LargeArrayPool.Return(rented); // a writer disposed after the trim: its array is dropped, not an error

        byte[] next = LargeArrayPool.Rent(Size);
        Assert.True(next.Length >= Size);
        Assert.NotSame(rented, next);
        LargeArrayPool.Return(next);
    }

    [Fact]
    public void Gen2Collection_AfterTheIdleLimit_EmptiesThePool()
    {
        byte[] first = LargeArrayPool.Rent(Size);
        LargeArrayPool.Return(first);
        TimeSpan limit = LargeArrayPool.IdleLimit;
        LargeArrayPool.IdleLimit = TimeSpan.Zero;
        try
        {
            int before = LargeArrayPool.Trims;
            for (int i = 0; i < 3 && LargeArrayPool.Trims == before; i++)
            {
                // The callback object is finalized after the collection that finds it unreachable.
                GC.Collect(2, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
            }

            Assert.True(LargeArrayPool.Trims > before, "a gen2 collection emptied the idle pool");
        }
        finally
        {
            LargeArrayPool.IdleLimit = limit;
        }

        byte[] next = LargeArrayPool.Rent(Size);
        LargeArrayPool.Return(next);
        Assert.NotSame(first, next);
    }

    [Fact]
    public void TrimIfIdle_OfAPoolEmptiedAndNotRentedFromSince_DoesNotReplaceItAgain()
    {
        LargeArrayPool.Return(LargeArrayPool.Rent(Size));
        Assert.True(LargeArrayPool.TrimIfIdle(long.MaxValue));
        int trims = LargeArrayPool.Trims;

        Assert.False(LargeArrayPool.TrimIfIdle(long.MaxValue));
        Assert.Equal(trims, LargeArrayPool.Trims);
    }
}

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
    public void Return_OfAnArrayRentedBeforeATrim_IsAccepted_AndRentingGoesOn()
    {
        byte[] rented = LargeArrayPool.Rent(Size);
        Assert.True(LargeArrayPool.TrimIfIdle(long.MaxValue));

        LargeArrayPool.Return(rented); // a writer disposed after the trim: its array is dropped, not an error

        byte[] next = LargeArrayPool.Rent(Size);
        Assert.True(next.Length >= Size);
        LargeArrayPool.Return(next);
    }
}

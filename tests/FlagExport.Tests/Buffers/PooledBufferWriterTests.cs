using System.Runtime.InteropServices;

namespace FlagExport.Tests.Buffers;

/// <summary>Rents from the process-wide pool of batch-sized arrays, so nothing else may run meanwhile.</summary>
[CollectionDefinition(nameof(LargeArrayPoolUsers), DisableParallelization = true)]
public sealed class LargeArrayPoolUsers;

[Collection(nameof(LargeArrayPoolUsers))]
public sealed class PooledBufferWriterTests
{
    [Fact]
    public void Growth_FromSmallToBatchSized_KeepsEveryByteInOrder()
    {
        using var buffer = new PooledBufferWriter(4096);
        var expected = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(expected);

        // Small writes, so the buffer grows step by step from a shared-pool array into batch-sized ones: every byte
        // written before a growth must be in the larger array.
        for (int offset = 0; offset < expected.Length; offset += 1000)
        {
            buffer.Write(expected.AsSpan(offset, Math.Min(1000, expected.Length - offset)));
        }

        Assert.Equal(expected.Length, buffer.WrittenCount);
        Assert.True(buffer.WrittenSpan.SequenceEqual(expected));
    }

    [Fact]
    public void BatchSizedArray_ReturnedOnOneThread_IsReusedByAnother()
    {
        // ArrayPool<byte>.Shared would keep the array in the returning thread's own slot, out of reach of the next
        // batch encoded on another thread; batch-sized arrays must be shared by all threads so one per batch in flight
        // is all that stays allocated.
        const int size = 40 * 1024 * 1024;
        byte[]? first = null;
        RunOnNewThread(() =>
        {
            using var buffer = new PooledBufferWriter(size);
            first = ArrayOf(buffer);
        });

        byte[]? second = null;
        RunOnNewThread(() =>
        {
            using var buffer = new PooledBufferWriter(size);
            second = ArrayOf(buffer);
        });

        Assert.NotNull(first);
        Assert.Same(first, second);
    }

    [Fact]
    public void Dispose_ThenWrite_Throws()
    {
        var buffer = new PooledBufferWriter(2 * 1024 * 1024);
        buffer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => buffer.Write("x"u8));
    }

    private static byte[] ArrayOf(PooledBufferWriter buffer)
    {
        buffer.Write("x"u8);
        Assert.True(MemoryMarshal.TryGetArray(buffer.WrittenMemory, out ArraySegment<byte> segment));
        return segment.Array!;
    }

    private static void RunOnNewThread(Action action)
    {
        var thread = new Thread(() => action());
        thread.Start();
        thread.Join();
    }
}

using System.Buffers;
using FlagExport.Buffers;

namespace FlagExport;

/// <summary>
/// A growable, contiguous byte buffer of pooled arrays, that encoders write a whole batch into.
/// </summary>
/// <remarks>
/// Written by hand because <see cref="ArrayBufferWriter{T}"/> allocates a new array on every growth and cannot return
/// it to a pool; a batch of 100,000 events is tens of megabytes, encoded again at every flush. Not thread-safe: one
/// encoder writes, then one exporter reads <see cref="WrittenMemory"/>. Dispose to return the array to the pool; the
/// memory read before must not be used after.
/// </remarks>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int MinimumCapacity = 4096;

    private byte[] _buffer;
    private int _written;

    /// <summary>Rents a buffer of at least <paramref name="initialCapacity"/> bytes (at least 4 KiB).</summary>
    /// <param name="initialCapacity">The expected size; the buffer grows by doubling beyond it.</param>
    internal PooledBufferWriter(int initialCapacity = 64 * 1024) =>
        _buffer = Rent(Math.Max(initialCapacity, MinimumCapacity));

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>How many bytes have been written.</summary>
    public int WrittenCount => _written;

    /// <summary>Forgets what was written and keeps the array for the next batch.</summary>
    internal void Clear() => _written = 0;

    /// <summary>Forgets what was written after the first <paramref name="writtenCount"/> bytes.</summary>
    internal void Truncate(int writtenCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(writtenCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(writtenCount, _written);
        _written = writtenCount;
    }

    /// <inheritdoc/>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > _buffer.Length - _written)
        {
            throw new InvalidOperationException($"Cannot advance {count} bytes past the end of the buffer.");
        }

        _written += count;
    }

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureFree(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureFree(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Appends <paramref name="bytes"/>.</summary>
    internal void Write(ReadOnlySpan<byte> bytes)
    {
        EnsureFree(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_written));
        _written += bytes.Length;
    }

    /// <summary>
    /// A write-only stream that appends to this buffer, for libraries that only write to streams (compressors,
    /// Parquet.Net). Its <see cref="Stream.Position"/> counts the bytes written through it; disposing it leaves the
    /// buffer as it is.
    /// </summary>
    internal Stream AsStream() => new BufferWriterStream(this);

    /// <summary>Returns the array to the pool; the buffer cannot be written afterwards.</summary>
    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            Return(buffer);
        }
    }

    private void EnsureFree(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        long wanted = Math.Max((long)_buffer.Length * 2, (long)_written + needed);
        int capacity = (int)Math.Min(wanted, Array.MaxLength);
        if (capacity - _written < needed)
        {
            throw new InvalidOperationException($"A batch cannot exceed {Array.MaxLength} bytes; lower MaxEventInMemory.");
        }

        byte[] larger = Rent(capacity);
        _buffer.AsSpan(0, _written).CopyTo(larger);
        Return(_buffer);
        _buffer = larger;
    }

    // Batch-sized arrays come from a pool shared by all threads (see LargeArrayPool), the rest from the shared pool.
    private static byte[] Rent(int minimumLength) =>
        minimumLength > LargeArrayPool.Threshold ? LargeArrayPool.Rent(minimumLength) : ArrayPool<byte>.Shared.Rent(minimumLength);

    // The shared pool hands out at most Threshold bytes for a request at or below it, the large pool more.
    private static void Return(byte[] array)
    {
        if (array.Length > LargeArrayPool.Threshold)
        {
            LargeArrayPool.Return(array);
        }
        else
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}

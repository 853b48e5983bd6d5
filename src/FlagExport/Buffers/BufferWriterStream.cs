namespace FlagExport.Buffers;

/// <summary>
/// A write-only, forward-only <see cref="Stream"/> that appends to a <see cref="PooledBufferWriter"/>, for libraries
/// that only accept a stream (Parquet.Net).
/// </summary>
/// <remarks>
/// <para><see cref="Position"/> counts the bytes written through this stream, not the bytes already in the buffer:
/// Parquet.Net records column chunk offsets from it, and those must be relative to the start of the Parquet file even
/// when the buffer already holds something else.</para>
/// <para><see cref="CanSeek"/> is <see langword="false"/>. Parquet.Net 6.1.0 accepts that for writing (it wraps such a
/// stream in its own byte counter and never seeks unless appending to an existing file); a seekable stream would have
/// to support going back, which an append-only pooled buffer cannot.</para>
/// <para>Writes complete synchronously: the asynchronous overloads copy and return a completed task. Disposing the
/// stream does not dispose the buffer.</para>
/// </remarks>
internal sealed class BufferWriterStream : Stream
{
    private readonly PooledBufferWriter _output;
    private readonly int _start;

    public BufferWriterStream(PooledBufferWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _start = output.WrittenCount;
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    /// <summary>The number of bytes written through this stream.</summary>
    public override long Length => _output.WrittenCount - _start;

    /// <summary>The number of bytes written through this stream; cannot be set.</summary>
    public override long Position
    {
        get => Length;
        set => throw new NotSupportedException("This stream only appends.");
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        _output.Write(buffer.AsSpan(offset, count));
    }

    public override void Write(ReadOnlySpan<byte> buffer) => _output.Write(buffer);

    public override void WriteByte(byte value) => _output.Write([value]);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        Write(buffer, offset, count);
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        _output.Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("This stream is write-only.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("This stream only appends.");

    public override void SetLength(long value) => throw new NotSupportedException("This stream only appends.");
}

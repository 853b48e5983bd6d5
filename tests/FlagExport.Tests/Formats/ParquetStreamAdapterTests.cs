using FlagExport.Buffers;

namespace FlagExport.Tests.Formats;

/// <summary>The stream Parquet.Net writes through (<see cref="BufferWriterStream"/>), on its own.</summary>
public sealed class ParquetStreamAdapterTests
{
    [Fact]
    public async Task Writes_AppendToTheBuffer_AndPositionCountsOnlyTheStreamsOwnBytes()
    {
        using var output = new PooledBufferWriter();
        output.Write("prefix"u8);
        using var stream = new BufferWriterStream(output);

        stream.Write("ab"u8);
        stream.WriteByte((byte)'c');
        stream.Write([(byte)'x', (byte)'d', (byte)'y'], 1, 1);
        await stream.WriteAsync("ef"u8.ToArray(), TestContext.Current.CancellationToken);
#pragma warning disable CA1835 // The array overload is the one under test here.
        await stream.WriteAsync("xgx"u8.ToArray(), 1, 1, TestContext.Current.CancellationToken);
#pragma warning restore CA1835
        await stream.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal("prefixabcdefg"u8.ToArray(), output.WrittenSpan.ToArray());
        Assert.Equal(7, stream.Position);
        Assert.Equal(7, stream.Length);
    }

    [Fact]
    public void Stream_IsWriteOnlyAndForwardOnly()
    {
        using var output = new PooledBufferWriter();
        using var stream = new BufferWriterStream(output);

        Assert.Equal((false, false, true), (stream.CanRead, stream.CanSeek, stream.CanWrite));
        Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => stream.Position = 0);
        Assert.Throws<NotSupportedException>(() => stream.SetLength(0));
        Assert.Throws<NotSupportedException>(() => stream.ReadByte());
    }

    [Fact]
    public async Task WriteAsync_WithCancelledToken_WritesNothing()
    {
        using var output = new PooledBufferWriter();
        using var stream = new BufferWriterStream(output);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.WriteAsync("ab"u8.ToArray(), cancelled.Token));

        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Dispose_LeavesTheBufferUsable()
    {
        using var output = new PooledBufferWriter();
        using (var stream = new BufferWriterStream(output))
        {
            stream.Write("a"u8);
        }

        output.Write("b"u8);
        Assert.Equal("ab"u8.ToArray(), output.WrittenSpan.ToArray());
    }
}

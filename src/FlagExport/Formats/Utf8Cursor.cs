using FlagExport.Buffers;

namespace FlagExport.Formats;

/// <summary>
/// A write position inside a <see cref="PooledBufferWriter"/>'s free space, so that an encoder writing many small
/// pieces (a CSV line is about twenty) reaches the buffer once per refill instead of once per piece.
/// </summary>
/// <remarks>
/// Measured on 100,000 default-template CSV lines: about twice as fast as calling <c>GetSpan</c>/<c>Advance</c> per
/// piece. Call <see cref="Commit"/> before anything else writes to the buffer, and at the end.
/// </remarks>
internal ref struct Utf8Cursor
{
    private const int MinimumRefill = 4096;
    private readonly PooledBufferWriter _output;
    private Span<byte> _free;
    private int _position;

    public Utf8Cursor(PooledBufferWriter output)
    {
        _output = output;
        _free = default;
        _position = 0;
    }

    /// <summary>A span of at least <paramref name="maxBytes"/> free bytes at the write position; follow with <see cref="Advance"/>.</summary>
    public Span<byte> Reserve(int maxBytes)
    {
        if (_free.Length - _position < maxBytes)
        {
            Refill(maxBytes);
        }

        return _free[_position..];
    }

    /// <summary>Moves the write position past <paramref name="count"/> bytes written into the span from <see cref="Reserve"/>.</summary>
    public void Advance(int count) => _position += count;

    /// <summary>Appends <paramref name="bytes"/>.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        Span<byte> destination = Reserve(bytes.Length);
        if (bytes.Length == 1)
        {
            destination[0] = bytes[0]; // a separator, most often: a store, not a call to the general copy
        }
        else
        {
            bytes.CopyTo(destination);
        }

        _position += bytes.Length;
    }

    /// <summary>Hands the bytes written so far to the buffer and returns it, for writers that take the buffer itself.</summary>
    public PooledBufferWriter Commit()
    {
        _output.Advance(_position);
        _position = 0;
        _free = default;
        return _output;
    }

    private void Refill(int maxBytes)
    {
        _output.Advance(_position);
        _position = 0;
        _free = _output.GetSpan(Math.Max(maxBytes, MinimumRefill));
    }
}

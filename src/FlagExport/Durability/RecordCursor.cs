using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace FlagExport.Durability;

/// <summary>What <see cref="RecordCursor.TryRead"/> found at the cursor.</summary>
internal enum RecordStatus
{
    /// <summary>A complete record with a matching checksum.</summary>
    Record,

    /// <summary>The cursor is exactly at the limit: no more records yet.</summary>
    End,

    /// <summary>Fewer bytes than the record needs before the limit, or a length that cannot fit: a torn write.</summary>
    Incomplete,

    /// <summary>The checksum does not match.</summary>
    Corrupt,
}

/// <summary>
/// Reads records one after another from a segment file through a reusable buffer, checking each checksum. Never reads past
/// the limit the caller passes, so bytes the flusher is still writing are never looked at.
/// </summary>
internal sealed class RecordCursor : IDisposable
{
    private readonly SafeFileHandle _file;
    private byte[] _buffer;
    private long _bufferFileOffset; // file offset of _buffer[0]
    private int _start;             // next unread byte in _buffer
    private int _end;               // bytes of _buffer filled

    public RecordCursor(SafeFileHandle file, long offset, int bufferSize)
    {
        _file = file;
        _buffer = new byte[bufferSize];
        _bufferFileOffset = offset;
    }

    /// <summary>File offset of the next record.</summary>
    public long Offset => _bufferFileOffset + _start;

    /// <summary>Reads the record at <see cref="Offset"/>; the payload is valid until the next call.</summary>
    public RecordStatus TryRead(long limit, out byte tag, out ReadOnlySpan<byte> payload)
    {
        tag = 0;
        payload = default;
        long available = limit - Offset;
        if (available <= 0)
        {
            return RecordStatus.End;
        }

        if (available < SegmentFormat.RecordHeaderSize || !Fill(SegmentFormat.RecordHeaderSize, limit))
        {
            return RecordStatus.Incomplete;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start));
        if (length > available - SegmentFormat.RecordHeaderSize || length > SegmentFormat.MaxPayloadLength)
        {
            return RecordStatus.Incomplete;
        }

        int total = SegmentFormat.RecordHeaderSize + (int)length;
        if (!Fill(total, limit))
        {
            return RecordStatus.Incomplete;
        }

        ReadOnlySpan<byte> record = _buffer.AsSpan(_start, total);
        byte recordTag = record[8];
        ReadOnlySpan<byte> recordPayload = record[SegmentFormat.RecordHeaderSize..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) != SegmentFormat.RecordChecksum(recordTag, recordPayload))
        {
            return RecordStatus.Corrupt;
        }

        _start += total;
        tag = recordTag;
        payload = recordPayload;
        return RecordStatus.Record;
    }

    /// <summary>Makes at least <paramref name="count"/> unread bytes available; false if the file ends first.</summary>
    private bool Fill(int count, long limit)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_start > 0)
        {
            // Keep the unread bytes and drop the consumed ones; payloads handed out before are no longer valid.
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _bufferFileOffset += _start;
            _end -= _start;
            _start = 0;
        }

        if (_buffer.Length < count)
        {
            byte[] larger = new byte[Math.Max(count, (int)Math.Min(Array.MaxLength, 2L * _buffer.Length))];
            _buffer.AsSpan(0, _end).CopyTo(larger);
            _buffer = larger;
        }

        while (_end < count)
        {
            long fileOffset = _bufferFileOffset + _end;
            int want = (int)Math.Min(_buffer.Length - _end, limit - fileOffset);
            if (want <= 0)
            {
                return false;
            }

            int read = RandomAccess.Read(_file, _buffer.AsSpan(_end, want), fileOffset);
            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }

    public void Dispose() => _file.Dispose();
}

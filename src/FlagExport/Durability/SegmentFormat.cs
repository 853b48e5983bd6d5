using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace FlagExport.Durability;

/// <summary>
/// The on-disk layout of segment files (docs/durable-buffer-format.md). Little-endian throughout.
/// <code>
/// header  = magic "FXLOG001" (8) | first position u64 (8) | CRC-32C of the previous 16 bytes u32 (4)
/// record  = payload length u32 (4) | CRC-32C of (length, tag, payload) u32 (4) | tag u8 (1) | payload
/// </code>
/// </summary>
internal static class SegmentFormat
{
    /// <summary>Bytes of a segment header.</summary>
    public const int HeaderSize = 20;

    /// <summary>Bytes of a record before its payload.</summary>
    public const int RecordHeaderSize = 9;

    /// <summary>Largest payload: a record must fit one array.</summary>
    public const int MaxPayloadLength = int.MaxValue - 64 - RecordHeaderSize;

    /// <summary>Extension of segment files.</summary>
    public const string Extension = ".seg";

    private const int NameDigits = 20;

    /// <summary>Identifies a segment file and its format version.</summary>
    public static ReadOnlySpan<byte> Magic => "FXLOG001"u8;

    /// <summary><c>{firstPosition:D20}.seg</c>: names sort like positions.</summary>
    public static string FileName(long firstPosition) => firstPosition.ToString("D20", CultureInfo.InvariantCulture) + Extension;

    /// <summary>The first position a segment file name claims; false for files that are not segments.</summary>
    public static bool TryParseFileName(string fileName, out long firstPosition)
    {
        firstPosition = 0;
        return fileName.Length == NameDigits + Extension.Length
            && fileName.EndsWith(Extension, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(0, NameDigits), NumberStyles.None, CultureInfo.InvariantCulture, out firstPosition);
    }

    /// <summary>Writes the header of a segment whose first record has <paramref name="firstPosition"/>.</summary>
    public static void WriteHeader(Span<byte> destination, long firstPosition)
    {
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], firstPosition);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], Crc32C.Compute(destination[..16]));
    }

    /// <summary>The first position of a valid header; false when magic or checksum do not match.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> source, out long firstPosition)
    {
        firstPosition = 0;
        if (source.Length < HeaderSize || !source[..8].SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt32LittleEndian(source[16..]) != Crc32C.Compute(source[..16]))
        {
            return false;
        }

        firstPosition = BinaryPrimitives.ReadInt64LittleEndian(source[8..]);
        return firstPosition >= 0;
    }

    /// <summary>The checksum stored in a record: CRC-32C over the length field, the tag and the payload.</summary>
    public static uint RecordChecksum(byte tag, ReadOnlySpan<byte> payload)
    {
        uint crc = BitOperations.Crc32C(Crc32C.Seed, (uint)payload.Length);
        crc = BitOperations.Crc32C(crc, tag);
        return Crc32C.Finish(Crc32C.Append(crc, payload));
    }

    /// <summary>Writes a record with its precomputed <paramref name="checksum"/>; returns the bytes written.</summary>
    public static int WriteRecord(Span<byte> destination, byte tag, ReadOnlySpan<byte> payload, uint checksum)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], checksum);
        destination[8] = tag;
        payload.CopyTo(destination[RecordHeaderSize..]);
        return RecordHeaderSize + payload.Length;
    }
}

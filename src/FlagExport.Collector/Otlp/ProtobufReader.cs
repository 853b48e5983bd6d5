using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// Reads protobuf's wire format from a span, field by field, without allocating: the fields' bytes stay in the request
/// body, so strings that recur are looked up (not decoded) and whole messages that are not flag evaluations are skipped.
/// </summary>
/// <remarks>
/// Google.Protobuf's public readers give a length-delimited field only as a new <c>string</c> or <c>ByteString</c>, which
/// would allocate per attribute; this reader is the few lines of the wire format that parsing straight into events needs.
/// Every read checks its bounds: a truncated or malformed body throws <see cref="OtlpFormatException"/>.
/// <para>Tags and lengths of OTLP messages are one-byte varints but for records and long values: the reads are inlined with
/// a one-byte fast path, and the longer forms and every throw sit in methods of their own, out of the inlined code.</para>
/// </remarks>
internal ref struct ProtobufReader(ReadOnlySpan<byte> message)
{
    private readonly ReadOnlySpan<byte> _message = message;
    private int _position;

    /// <summary>The wire types of proto3 (the group types 3 and 4 are refused).</summary>
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    /// <summary>Reads the next field's tag; false at the end of the message.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadTag(out int field, out int wireType)
    {
        if (_position >= _message.Length)
        {
            field = 0;
            wireType = 0;
            return false;
        }

        ulong tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field <= 0 || (tag >> 3) > 0x1FFFFFFF || wireType is not (Varint or Fixed64 or LengthDelimited or Fixed32))
        {
            ThrowInvalidTag(tag);
        }

        return true;
    }

    /// <summary>A varint (int32, int64, uint32, uint64, bool, enum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint()
    {
        if ((uint)_position < (uint)_message.Length && _message[_position] < 0x80)
        {
            return _message[_position++];
        }

        return ReadLongVarint();
    }

    private ulong ReadLongVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _message.Length)
            {
                throw Malformed("a truncated varint");
            }

            byte next = _message[_position++];
            value |= (ulong)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return value;
            }
        }

        throw Malformed("a varint longer than 10 bytes");
    }

    /// <summary>A fixed64 or double field's eight bytes, little-endian.</summary>
    public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, "a truncated fixed64 field"));

    /// <summary>A length-delimited field (string, bytes, nested message, packed repeated), as a slice of the message.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_message.Length - _position))
        {
            ThrowMalformed("a length-delimited field longer than its message");
        }

        ReadOnlySpan<byte> field = _message.Slice(_position, (int)length);
        _position += (int)length;
        return field;
    }

    /// <summary>Skips the value of a field of <paramref name="wireType"/> (an unknown field, or one not needed).</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint:
                _ = ReadVarint();
                break;
            case Fixed64:
                _ = Take(8, "a truncated fixed64 field");
                break;
            case LengthDelimited:
                _ = ReadLengthDelimited();
                break;
            default:
                _ = Take(4, "a truncated fixed32 field");
                break;
        }
    }

    /// <summary>Throws unless a field of a known number has the wire type its definition gives.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Expect(int wireType, int expected, string field)
    {
        if (wireType != expected)
        {
            ThrowWrongWireType(wireType, expected, field);
        }
    }

    private ReadOnlySpan<byte> Take(int count, string truncated)
    {
        if (count > _message.Length - _position)
        {
            ThrowMalformed(truncated);
        }

        ReadOnlySpan<byte> taken = _message.Slice(_position, count);
        _position += count;
        return taken;
    }

    [DoesNotReturn]
    private static void ThrowWrongWireType(int wireType, int expected, string field) =>
        throw new OtlpFormatException($"The body is not a valid OTLP protobuf message: field {field} has wire type {wireType}, not {expected}.");

    [DoesNotReturn]
    private readonly void ThrowInvalidTag(ulong tag) => throw Malformed($"an invalid field tag {tag}");

    [DoesNotReturn]
    private readonly void ThrowMalformed(string what) => throw Malformed(what);

    private readonly OtlpFormatException Malformed(string what) =>
        new($"The body is not a valid OTLP protobuf message: {what} at byte {_position} of a {_message.Length}-byte message.");
}

using Google.Protobuf;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// A protobuf message written field by field with <see cref="CodedOutputStream"/>, for OTLP bodies built from the field
/// numbers of the OTLP specification, with no generated types.
/// </summary>
public sealed class ProtoMessage
{
    private readonly MemoryStream _bytes = new();
    private readonly CodedOutputStream _output;

    public ProtoMessage() => _output = new CodedOutputStream(_bytes, leaveOpen: true);

    public ProtoMessage Text(int field, string value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteString(value);
        return this;
    }

    public ProtoMessage Bytes(int field, byte[] value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteBytes(ByteString.CopyFrom(value));
        return this;
    }

    public ProtoMessage Message(int field, ProtoMessage value) => Bytes(field, value.ToArray());

    public ProtoMessage Varint(int field, long value)
    {
        _output.WriteTag(field, WireFormat.WireType.Varint);
        _output.WriteInt64(value);
        return this;
    }

    public ProtoMessage Bool(int field, bool value)
    {
        _output.WriteTag(field, WireFormat.WireType.Varint);
        _output.WriteBool(value);
        return this;
    }

    public ProtoMessage Fixed64(int field, ulong value)
    {
        _output.WriteTag(field, WireFormat.WireType.Fixed64);
        _output.WriteFixed64(value);
        return this;
    }

    public byte[] ToArray()
    {
        _output.Flush();
        return _bytes.ToArray();
    }

    /// <summary>
    /// The fields of a message as (number, value): a varint or fixed value as <see cref="ulong"/>, a length-delimited one
    /// as <see cref="byte"/>[] (a string or a nested message, to read again).
    /// </summary>
    public static List<(int Field, object Value)> Read(byte[] message)
    {
        var fields = new List<(int, object)>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            fields.Add(WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => (field, input.ReadUInt64()),
                WireFormat.WireType.Fixed64 => (field, input.ReadFixed64()),
                WireFormat.WireType.Fixed32 => (field, (ulong)input.ReadFixed32()),
                WireFormat.WireType.LengthDelimited => (field, input.ReadBytes().ToByteArray()),
                WireFormat.WireType wire => throw new InvalidDataException($"Unexpected wire type {wire} of field {field}."),
            });
        }

        return fields;
    }
}

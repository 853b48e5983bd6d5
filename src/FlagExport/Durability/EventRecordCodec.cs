// Its cost against System.Text.Json: docs/benchmarks/collector-durable-buffer.md (EventRecordCodecBenchmarks).
using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Unicode;

namespace FlagExport.Durability;

/// <summary>
/// The binary payload of one event in the durable buffer: written on the hot path, read back after a crash.
/// </summary>
/// <remarks>
/// The format is described under "Event payload" in docs/durable-buffer-format.md. It is canonical: every field is
/// kept exactly (strings through WTF-8 so that lone surrogates survive, doubles as their bits, null maps apart from
/// empty ones), and <see cref="Read(byte, ReadOnlySpan{byte}, FlagObject?)"/> accepts only what <see cref="Write(ExportableEvent, IBufferWriter{byte}, bool)"/> produces, so any payload it accepts
/// re-encodes to the same bytes. Bad input fails with <see cref="InvalidDataException"/> only; every length is checked
/// against the bytes left before anything is allocated for it, and nesting is bounded by <see cref="MaxDepth"/>.
/// </remarks>
internal static class EventRecordCodec
{
    /// <summary>The record tags the log stores beside the payload.</summary>
    public const byte FeatureTag = 1, TrackingTag = 2;

    /// <summary>
    /// The tag of a metadata record: one feature-event metadata object shared by the event records after it that say so
    /// (<see cref="Write(ExportableEvent, IBufferWriter{byte}, bool)"/>), so that a request's metadata is stored once,
    /// not once per event.
    /// </summary>
    public const byte MetadataTag = 3;

    /// <summary>The first byte of every payload.</summary>
    public const byte FormatVersion = 1;

    /// <summary>
    /// The most arrays and objects nested in one another that a value may have, counting the event's own maps
    /// (metadata, evaluation context, details) as one level. The collector parses requests with this JSON depth, so
    /// every event it accepts fits.
    /// </summary>
    public const int MaxDepth = 64;

    // Value kinds: booleans carry their value in the kind so that they take one byte.
    private const byte NullKind = 0, FalseKind = 1, TrueKind = 2, IntegerKind = 3, DoubleKind = 4, StringKind = 5, ArrayKind = 6, ObjectKind = 7;

    // Only in a feature event's metadata field: the metadata is that of the latest metadata record before this record.
    private const byte SharedMapKind = 8;

    /// <summary>The record tag of <paramref name="e"/>'s payload.</summary>
    public static byte TagOf(ExportableEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.EventType == EventType.Feature ? FeatureTag : TrackingTag;
    }

    /// <summary>Appends the payload of <paramref name="e"/> to <paramref name="output"/> without allocating.</summary>
    /// <exception cref="ArgumentException">A value nests deeper than <see cref="MaxDepth"/>; nothing was written.</exception>
    public static void Write(ExportableEvent e, IBufferWriter<byte> output) => Write(e, output, sharedMetadata: false);

    /// <summary>
    /// Appends the payload of <paramref name="e"/> to <paramref name="output"/> without allocating; with
    /// <paramref name="sharedMetadata"/>, a feature event's metadata is written as a reference to the latest metadata
    /// record (<see cref="WriteMetadata"/>) before this record, which the caller must have written with the same object.
    /// </summary>
    /// <exception cref="ArgumentException">A value nests deeper than <see cref="MaxDepth"/>; nothing was written.</exception>
    public static void Write(ExportableEvent e, IBufferWriter<byte> output, bool sharedMetadata)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(output);

        // Checked before writing so that a refused event leaves no partial payload behind.
        switch (e)
        {
            case FeatureEvent feature:
                CheckDepth(feature.Value, 0, nameof(FeatureEvent.Value));
                if (!sharedMetadata)
                {
                    CheckDepth(feature.MetadataObject, nameof(FeatureEvent.Metadata));
                }

                break;
            case TrackingEvent tracking:
                CheckDepth(tracking.EvaluationContextObject, nameof(TrackingEvent.EvaluationContext));
                CheckDepth(tracking.TrackingEventDetailsObject, nameof(TrackingEvent.TrackingEventDetails));
                break;
        }

        var writer = new PayloadWriter(output);
        writer.WriteByte(FormatVersion);
        writer.WriteString(e.Kind);
        writer.WriteString(e.ContextKind);
        writer.WriteString(e.UserKey);
        writer.WriteVarint((ulong)e.CreationDate);
        writer.WriteString(e.Key);
        if (e is FeatureEvent f)
        {
            writer.WriteString(f.Variation);
            writer.WriteValue(f.Value);
            writer.WriteByte(f.Default ? (byte)1 : (byte)0);
            writer.WriteString(f.Version);
            writer.WriteString(f.Source);
            if (sharedMetadata)
            {
                writer.WriteByte(SharedMapKind);
            }
            else
            {
                writer.WriteMap(f.MetadataObject);
            }
        }
        else
        {
            var t = (TrackingEvent)e;
            writer.WriteMap(t.EvaluationContextObject);
            writer.WriteMap(t.TrackingEventDetailsObject);
        }

        writer.Flush();
    }

    /// <summary>Appends the payload of a metadata record holding <paramref name="metadata"/> without allocating.</summary>
    /// <exception cref="ArgumentException">A value nests deeper than <see cref="MaxDepth"/>; nothing was written.</exception>
    public static void WriteMetadata(FlagObject metadata, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(output);
        CheckDepth(metadata, nameof(FeatureEvent.Metadata));
        var writer = new PayloadWriter(output);
        writer.WriteByte(FormatVersion);
        writer.WriteMap(metadata);
        writer.Flush();
    }

    /// <summary>Rebuilds the metadata that <see cref="WriteMetadata"/> wrote as <paramref name="payload"/>.</summary>
    /// <exception cref="InvalidDataException">The payload is not one <see cref="WriteMetadata"/> produces.</exception>
    public static FlagObject ReadMetadata(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        byte version = reader.ReadByte("the format version");
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Unknown metadata payload format version {version}; this reader knows {FormatVersion}.");
        }

        int start = reader.Position;
        FlagObject? metadata = reader.ReadMap("metadata");
        if (metadata is null)
        {
            throw new InvalidDataException($"Invalid metadata payload at offset {start}: the metadata is null, not an object.");
        }

        reader.EnsureEnd();
        return metadata;
    }

    /// <summary>Rebuilds the event that <see cref="Write(ExportableEvent, IBufferWriter{byte})"/> wrote as <paramref name="payload"/> under <paramref name="tag"/>.</summary>
    /// <exception cref="InvalidDataException">The tag, version or payload is not one it produces, or the payload refers to shared metadata.</exception>
    public static ExportableEvent Read(byte tag, ReadOnlySpan<byte> payload) => Read(tag, payload, sharedMetadata: null);

    /// <summary>
    /// Rebuilds the event written as <paramref name="payload"/> under <paramref name="tag"/>; a reference to shared
    /// metadata gives <paramref name="sharedMetadata"/> itself (the same object for every event of its group).
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The tag, version or payload is not one <see cref="Write(ExportableEvent, IBufferWriter{byte}, bool)"/> produces, or
    /// it refers to shared metadata and <paramref name="sharedMetadata"/> is null (no metadata record precedes it).
    /// </exception>
    public static ExportableEvent Read(byte tag, ReadOnlySpan<byte> payload, FlagObject? sharedMetadata)
    {
        if (tag is not (FeatureTag or TrackingTag))
        {
            throw new InvalidDataException($"Unknown event record tag {tag}.");
        }

        var reader = new PayloadReader(payload);
        byte version = reader.ReadByte("the format version");
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Unknown event payload format version {version}; this reader knows {FormatVersion}.");
        }

        string kind = reader.ReadString("kind", "feature", "tracking");
        string contextKind = reader.ReadString("contextKind", "user", "anonymousUser");
        string userKey = reader.ReadString("userKey");
        long creationDate = (long)reader.ReadVarint("creationDate");
        string key = reader.ReadString("key");
        ExportableEvent result;
        if (tag == FeatureTag)
        {
            string variation = reader.ReadString("variation");
            FlagValue value = reader.ReadValue(0, "value");
            bool isDefault = reader.ReadBoolean("default");
            string flagVersion = reader.ReadString("version");
            string source = reader.ReadString("source", "SERVER", "PROVIDER_CACHE");
            FlagObject? metadata = reader.ReadMapOrShared("metadata", sharedMetadata);
            result = new FeatureEvent
            {
                Kind = kind, ContextKind = contextKind, UserKey = userKey, CreationDate = creationDate, Key = key,
                Variation = variation, Value = value, Default = isDefault, Version = flagVersion, Source = source, Metadata = metadata,
            };
        }
        else
        {
            FlagObject? evaluationContext = reader.ReadMap("evaluationContext");
            FlagObject? details = reader.ReadMap("trackingEventDetails");
            result = new TrackingEvent
            {
                Kind = kind, ContextKind = contextKind, UserKey = userKey, CreationDate = creationDate, Key = key,
                EvaluationContext = evaluationContext, TrackingEventDetails = details,
            };
        }

        reader.EnsureEnd();
        return result;
    }

    private static void CheckDepth(FlagObject? map, string field)
    {
        if (map is not null && !WithinDepth(map, 0))
        {
            throw new ArgumentException($"The event's {field} nests deeper than {MaxDepth} arrays and objects.", field);
        }
    }

    private static void CheckDepth(in FlagValue value, int enclosing, string field)
    {
        if (!WithinDepth(value, enclosing))
        {
            throw new ArgumentException($"The event's {field} nests deeper than {MaxDepth} arrays and objects.", field);
        }
    }

    /// <summary>Whether <paramref name="value"/>, inside <paramref name="enclosing"/> containers, stays within <see cref="MaxDepth"/>.</summary>
    private static bool WithinDepth(in FlagValue value, int enclosing)
    {
        switch (value.Kind)
        {
            case FlagValueKind.Array:
                if (enclosing >= MaxDepth)
                {
                    return false;
                }

                foreach (FlagValue item in value.AsArray())
                {
                    if (!WithinDepth(item, enclosing + 1))
                    {
                        return false;
                    }
                }

                return true;
            case FlagValueKind.Object:
                return WithinDepth(value.AsObject(), enclosing);
            default:
                return true;
        }
    }

    private static bool WithinDepth(FlagObject map, int enclosing)
    {
        if (enclosing >= MaxDepth)
        {
            return false;
        }

        foreach (KeyValuePair<string, FlagValue> property in map.Properties)
        {
            if (!WithinDepth(property.Value, enclosing + 1))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Writes into the span the output lends, asking for more only when it runs out, so that a payload costs a few
    /// interface calls rather than several per field.
    /// </summary>
    private ref struct PayloadWriter(IBufferWriter<byte> output)
    {
        private const int MaxVarintBytes = 10;

        // Strings this short encode in at most 3 bytes per char: 126, whose length prefix is one byte.
        private const int ShortStringChars = 42;

        private Span<byte> _span;
        private int _position;

        public void WriteByte(byte value)
        {
            Ensure(1);
            _span[_position++] = value;
        }

        public void WriteVarint(ulong value)
        {
            Ensure(MaxVarintBytes);
            while (value >= 0x80)
            {
                _span[_position++] = (byte)(value | 0x80);
                value >>= 7;
            }

            _span[_position++] = (byte)value;
        }

        public void WriteString(string? value)
        {
            // A null string (which the annotations forbid) is written as empty.
            ReadOnlySpan<char> chars = value;
            if (chars.Length <= ShortStringChars)
            {
                Ensure(1 + (chars.Length * 3));
                int written = EncodeWtf8(chars, _span[(_position + 1)..]);
                _span[_position] = (byte)written;
                _position += 1 + written;
            }
            else
            {
                // UTF-8 with replacement gives a lone surrogate U+FFFD, 3 bytes, as WTF-8 gives the surrogate itself.
                int length = Encoding.UTF8.GetByteCount(chars);
                WriteVarint((uint)length);
                Ensure(length);
                int written = EncodeWtf8(chars, _span[_position..]);
                Debug.Assert(written == length, "The byte count and the encoding disagree.");
                _position += written;
            }
        }

        public void WriteValue(in FlagValue value)
        {
            switch (value.Kind)
            {
                case FlagValueKind.Null:
                    WriteByte(NullKind);
                    break;
                case FlagValueKind.Boolean:
                    WriteByte(value.AsBoolean() ? TrueKind : FalseKind);
                    break;
                case FlagValueKind.Integer:
                    WriteByte(IntegerKind);
                    long integer = value.AsInteger();
                    WriteVarint((ulong)((integer << 1) ^ (integer >> 63)));
                    break;
                case FlagValueKind.Double:
                    Ensure(9);
                    _span[_position] = DoubleKind;
                    BinaryPrimitives.WriteInt64LittleEndian(_span[(_position + 1)..], BitConverter.DoubleToInt64Bits(value.AsDouble()));
                    _position += 9;
                    break;
                case FlagValueKind.String:
                    WriteByte(StringKind);
                    WriteString(value.AsString());
                    break;
                case FlagValueKind.Array:
                    ReadOnlySpan<FlagValue> items = value.AsArray();
                    WriteByte(ArrayKind);
                    WriteVarint((uint)items.Length);
                    foreach (FlagValue item in items)
                    {
                        WriteValue(item);
                    }

                    break;
                default:
                    WriteObject(value.AsObject());
                    break;
            }
        }

        /// <summary>A map field: null, or an object value.</summary>
        public void WriteMap(FlagObject? map)
        {
            if (map is null)
            {
                WriteByte(NullKind);
            }
            else
            {
                WriteObject(map);
            }
        }

        /// <summary>Writes back what the output lent and was filled.</summary>
        public readonly void Flush()
        {
            if (_position > 0)
            {
                output.Advance(_position);
            }
        }

        private void WriteObject(FlagObject map)
        {
            WriteByte(ObjectKind);
            WriteVarint((uint)map.Count);
            foreach (KeyValuePair<string, FlagValue> property in map.Properties)
            {
                WriteString(property.Key);
                WriteValue(property.Value);
            }
        }

        private void Ensure(int count)
        {
            if (_span.Length - _position < count)
            {
                Flush();
                _span = output.GetSpan(count);
                _position = 0;
            }
        }

        /// <summary>Encodes <paramref name="chars"/> as UTF-8, except that a lone surrogate takes the 3 bytes of its code point (WTF-8).</summary>
        private static int EncodeWtf8(ReadOnlySpan<char> chars, Span<byte> destination)
        {
            OperationStatus status = Utf8.FromUtf16(chars, destination, out int read, out int written, replaceInvalidSequences: false);
            if (status == OperationStatus.Done)
            {
                return written;
            }

            Debug.Assert(status == OperationStatus.InvalidData, "The destination was sized for the worst case.");
            for (int i = read; i < chars.Length; i++)
            {
                int c = chars[i];
                if (c < 0x80)
                {
                    destination[written++] = (byte)c;
                }
                else if (c < 0x800)
                {
                    destination[written++] = (byte)(0xC0 | (c >> 6));
                    destination[written++] = (byte)(0x80 | (c & 0x3F));
                }
                else if (char.IsHighSurrogate((char)c) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
                {
                    int codePoint = char.ConvertToUtf32((char)c, chars[++i]);
                    destination[written++] = (byte)(0xF0 | (codePoint >> 18));
                    destination[written++] = (byte)(0x80 | ((codePoint >> 12) & 0x3F));
                    destination[written++] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
                    destination[written++] = (byte)(0x80 | (codePoint & 0x3F));
                }
                else
                {
                    // Other BMP characters, and lone surrogates.
                    destination[written++] = (byte)(0xE0 | (c >> 12));
                    destination[written++] = (byte)(0x80 | ((c >> 6) & 0x3F));
                    destination[written++] = (byte)(0x80 | (c & 0x3F));
                }
            }

            return written;
        }
    }

    /// <summary>Reads a payload front to back; every failure is an <see cref="InvalidDataException"/> naming the field and offset.</summary>
    private ref struct PayloadReader(ReadOnlySpan<byte> payload)
    {
        private readonly ReadOnlySpan<byte> _payload = payload;
        private int _position;

        private readonly int Remaining => _payload.Length - _position;

        public byte ReadByte(string field)
        {
            if (_position >= _payload.Length)
            {
                throw Truncated(field);
            }

            return _payload[_position++];
        }

        public bool ReadBoolean(string field)
        {
            byte value = ReadByte(field);
            return value <= 1 ? value == 1 : throw Invalid($"{field} is the byte {value}, not 0 or 1", _position - 1);
        }

        /// <summary>An unsigned LEB128 number of at most 10 bytes, in its shortest form.</summary>
        public ulong ReadVarint(string field)
        {
            int start = _position;
            ulong result = 0;
            for (int i = 0; ; i++)
            {
                byte b = ReadByte(field);
                if (i == 9 && b > 1)
                {
                    throw Invalid($"{field} does not fit 64 bits", start);
                }

                result |= (ulong)(b & 0x7F) << (7 * i);
                if (b < 0x80)
                {
                    return b == 0 && i > 0 ? throw Invalid($"{field} is a varint longer than needed", start) : result;
                }
            }
        }

        public string ReadString(string field, string? common1 = null, string? common2 = null)
        {
            int start = _position;
            int length = ReadLength(field, 1);
            ReadOnlySpan<byte> bytes = _payload.Slice(_position, length);
            _position += length;
            if (bytes.IsEmpty)
            {
                return "";
            }

            // The usual values of a field are shared rather than allocated once per event.
            if (common1 is not null && Ascii.Equals(bytes, common1))
            {
                return common1;
            }

            if (common2 is not null && Ascii.Equals(bytes, common2))
            {
                return common2;
            }

            return Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : DecodeWtf8(bytes, field, start);
        }

        /// <summary>A value inside <paramref name="enclosing"/> arrays and objects.</summary>
        public FlagValue ReadValue(int enclosing, string field)
        {
            int start = _position;
            byte kind = ReadByte(field);
            switch (kind)
            {
                case NullKind:
                    return FlagValue.Null;
                case FalseKind:
                    return FlagValue.FromBoolean(false);
                case TrueKind:
                    return FlagValue.FromBoolean(true);
                case IntegerKind:
                    ulong zigZag = ReadVarint(field);
                    return FlagValue.FromInteger((long)(zigZag >> 1) ^ -(long)(zigZag & 1));
                case DoubleKind:
                    if (Remaining < 8)
                    {
                        throw Truncated(field);
                    }

                    double number = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(_payload.Slice(_position, 8)));
                    if (!double.IsFinite(number))
                    {
                        throw Invalid($"{field} is a double that is not finite", start);
                    }

                    _position += 8;
                    return FlagValue.FromDouble(number);
                case StringKind:
                    return FlagValue.FromString(ReadString(field));
                case ArrayKind:
                    CheckDepth(enclosing, field, start);
                    int count = ReadLength(field, 1); // every item takes at least its kind byte
                    if (count == 0)
                    {
                        return FlagValue.FromOwnedArray([]);
                    }

                    var items = new FlagValue[count];
                    for (int i = 0; i < items.Length; i++)
                    {
                        items[i] = ReadValue(enclosing + 1, field);
                    }

                    return FlagValue.FromOwnedArray(items);
                case ObjectKind:
                    CheckDepth(enclosing, field, start);
                    return FlagValue.FromObject(ReadObjectBody(enclosing, field));
                default:
                    throw Invalid($"{field} has the unknown value kind {kind}", start);
            }
        }

        public readonly int Position => _position;

        /// <summary>A map field that may also refer to the shared metadata: null, an object or the shared kind.</summary>
        public FlagObject? ReadMapOrShared(string field, FlagObject? shared)
        {
            if (_position < _payload.Length && _payload[_position] == SharedMapKind)
            {
                _position++;
                return shared ?? throw Invalid($"{field} refers to shared metadata, but no metadata record precedes it", _position - 1);
            }

            return ReadMap(field);
        }

        /// <summary>A map field: null or an object, nothing else.</summary>
        public FlagObject? ReadMap(string field)
        {
            int start = _position;
            byte kind = ReadByte(field);
            return kind switch
            {
                NullKind => null,
                ObjectKind => ReadObjectBody(0, field),
                _ => throw Invalid($"{field} has the value kind {kind}, not null or object", start),
            };
        }

        public readonly void EnsureEnd()
        {
            if (_position != _payload.Length)
            {
                throw Invalid($"{_payload.Length - _position} bytes follow the end of the event", _position);
            }
        }

        private FlagObject ReadObjectBody(int enclosing, string field)
        {
            int count = ReadLength(field, 2); // every property takes at least a name length and a kind byte
            if (count == 0)
            {
                return FlagObject.Empty;
            }

            var properties = new KeyValuePair<string, FlagValue>[count];
            for (int i = 0; i < properties.Length; i++)
            {
                int nameStart = _position;
                string name = ReadString(field);
                if (i > 0 && Utf8OrdinalComparer.Instance.Compare(properties[i - 1].Key, name) >= 0)
                {
                    throw Invalid($"{field} has property names out of order or repeated", nameStart);
                }

                properties[i] = new(name, ReadValue(enclosing + 1, field));
            }

            return FlagObject.FromSortedUnique(properties);
        }

        /// <summary>A count of items that take at least <paramref name="minimumBytesEach"/> bytes, so that it cannot exceed what is left.</summary>
        private int ReadLength(string field, int minimumBytesEach)
        {
            int start = _position;
            ulong length = ReadVarint(field);
            if (length > (ulong)(Remaining / minimumBytesEach))
            {
                throw Invalid($"{field} claims a length of {length}, more than the {Remaining} bytes left hold", start);
            }

            return (int)length;
        }

        private static void CheckDepth(int enclosing, string field, int start)
        {
            if (enclosing >= MaxDepth)
            {
                throw Invalid($"{field} nests deeper than {MaxDepth} arrays and objects", start);
            }
        }

        /// <summary>Decodes UTF-8 that may hold lone surrogates as 3-byte sequences; refuses anything else that is not UTF-8.</summary>
        private static string DecodeWtf8(ReadOnlySpan<byte> bytes, string field, int start)
        {
            char[] rented = ArrayPool<char>.Shared.Rent(bytes.Length);
            try
            {
                Span<char> chars = rented;
                int count = 0;
                bool previousWasLoneHigh = false;
                for (int i = 0; i < bytes.Length;)
                {
                    int b0 = bytes[i];
                    int needed, codePoint, lowestSecond = 0x80, highestSecond = 0xBF;
                    switch (b0)
                    {
                        case < 0x80:
                            chars[count++] = (char)b0;
                            i++;
                            previousWasLoneHigh = false;
                            continue;
                        case >= 0xC2 and <= 0xDF:
                            needed = 1;
                            codePoint = b0 & 0x1F;
                            break;
                        case >= 0xE0 and <= 0xEF:
                            needed = 2;
                            codePoint = b0 & 0x0F;
                            lowestSecond = b0 == 0xE0 ? 0xA0 : 0x80;
                            break;
                        case >= 0xF0 and <= 0xF4:
                            needed = 3;
                            codePoint = b0 & 0x07;
                            lowestSecond = b0 == 0xF0 ? 0x90 : 0x80;
                            highestSecond = b0 == 0xF4 ? 0x8F : 0xBF;
                            break;
                        default:
                            throw Invalid($"{field} is not UTF-8", start);
                    }

                    if (i + needed >= bytes.Length)
                    {
                        throw Invalid($"{field} is not UTF-8", start);
                    }

                    for (int k = 1; k <= needed; k++)
                    {
                        int next = bytes[i + k];
                        if (next < (k == 1 ? lowestSecond : 0x80) || next > (k == 1 ? highestSecond : 0xBF))
                        {
                            throw Invalid($"{field} is not UTF-8", start);
                        }

                        codePoint = (codePoint << 6) | (next & 0x3F);
                    }

                    i += needed + 1;
                    if (codePoint > 0xFFFF)
                    {
                        chars[count++] = (char)(0xD7C0 + (codePoint >> 10));
                        chars[count++] = (char)(0xDC00 | (codePoint & 0x3FF));
                        previousWasLoneHigh = false;
                        continue;
                    }

                    // A surrogate pair has one 4-byte form; two 3-byte halves would not be written back the same.
                    if (previousWasLoneHigh && char.IsLowSurrogate((char)codePoint))
                    {
                        throw Invalid($"{field} holds a surrogate pair as two 3-byte sequences", start);
                    }

                    previousWasLoneHigh = char.IsHighSurrogate((char)codePoint);
                    chars[count++] = (char)codePoint;
                }

                return new string(chars[..count]);
            }
            finally
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }

        private readonly InvalidDataException Truncated(string field) =>
            new($"Event payload truncated: {field} needs more than the {Remaining} bytes left at offset {_position}.");

        private static InvalidDataException Invalid(string what, int offset) => new($"Invalid event payload at offset {offset}: {what}.");
    }
}

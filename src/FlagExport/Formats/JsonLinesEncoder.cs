using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlagExport.Buffers;

namespace FlagExport.Formats;

/// <summary>
/// Writes one compact JSON object per event, each followed by <c>\n</c>, byte for byte as go-feature-flag does.
/// </summary>
/// <remarks>
/// Field order and omission follow go-feature-flag's struct tags: <c>contextKind</c> and <c>metadata</c> are
/// <c>omitempty</c>, <c>version</c> is always present. Property names are precomputed UTF-8 literals and values go
/// through <see cref="GoJson"/>, so encoding allocates nothing per event. Each line is written into one span sized for
/// its worst case (every char escaped), taken once from the output.
/// </remarks>
internal sealed class JsonLinesEncoder : IBatchEncoder
{
    public static readonly JsonLinesEncoder Instance = new();

    [ThreadStatic]
    private static EncodedStrings? t_strings;

    public ExportFormat Format => ExportFormat.Json;

    public ValueTask EncodeAsync(IReadOnlyList<ExportableEvent> events, PooledBufferWriter output, CancellationToken cancellationToken)
    {
        // Kept per thread across batches: its entries stay valid (strings and objects are immutable), and a new one per
        // batch would allocate its arenas again at every flush.
        EncodedStrings strings = t_strings ??= new EncodedStrings();

        // Batches are arrays or lists: read them as spans, without an interface call per event.
        ReadOnlySpan<ExportableEvent> span = events switch
        {
            ExportableEvent[] array => new ReadOnlySpan<ExportableEvent>(array), // also a FeatureEvent[] (array covariance)
            List<ExportableEvent> list => CollectionsMarshal.AsSpan(list),
            _ => default,
        };
        if (span.Length == events.Count)
        {
            foreach (ExportableEvent e in span)
            {
                WriteLine(output, e, strings);
            }
        }
        else
        {
            for (int i = 0; i < events.Count; i++)
            {
                WriteLine(output, events[i], strings);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Writes one event and its trailing newline.</summary>
    public static void WriteLine(PooledBufferWriter output, ExportableEvent exportable) => WriteLine(output, exportable, strings: null);

    private static void WriteLine(PooledBufferWriter output, ExportableEvent exportable, EncodedStrings? strings)
    {
        // One span per event, sized for the worst case, so that each field costs a copy and no capacity check.
        switch (exportable)
        {
            case FeatureEvent feature:
                output.Advance(WriteFeature(output.GetSpan(MaxFeatureBytes(feature)), feature, strings));
                break;
            case TrackingEvent tracking:
                output.Advance(WriteTracking(output.GetSpan(MaxTrackingBytes(tracking)), tracking, strings));
                break;
            default:
                throw new ArgumentException($"Unsupported event type {exportable.GetType()}.", nameof(exportable));
        }
    }

    /// <summary>The most bytes <paramref name="e"/>'s line can take: what <see cref="WriteLine(PooledBufferWriter, ExportableEvent)"/> reserves for it.</summary>
    /// <exception cref="OverflowException">The bound passes <see cref="int.MaxValue"/>.</exception>
    internal static int MaxLineBytes(ExportableEvent e) => e switch
    {
        FeatureEvent feature => MaxFeatureBytes(feature),
        TrackingEvent tracking => MaxTrackingBytes(tracking),
        _ => throw new ArgumentException($"Unsupported event type {e.GetType()}.", nameof(e)),
    };

    /// <summary>The property names and punctuation of every line, whatever its values (an upper bound).</summary>
    private const int FixedBytes = 160;

    private static int MaxCommonBytes(ExportableEvent e) => checked(FixedBytes
        + GoJson.MaxStringBytes(e.Kind.Length) + GoJson.MaxStringBytes(e.ContextKind.Length)
        + GoJson.MaxStringBytes(e.UserKey.Length) + GoJson.MaxStringBytes(e.Key.Length));

    private static int MaxFeatureBytes(FeatureEvent e) => checked(MaxCommonBytes(e)
        + GoJson.MaxStringBytes(e.Variation.Length) + GoJson.MaxValueBytes(e.Value)
        + GoJson.MaxStringBytes(e.Version.Length) + GoJson.MaxStringBytes(e.Source.Length)
        + (e.MetadataObject is { } metadata ? GoJson.MaxObjectBytes(metadata) : 0));

    private static int MaxTrackingBytes(TrackingEvent e) => checked(MaxCommonBytes(e)
        + (e.EvaluationContextObject is { } context ? GoJson.MaxObjectBytes(context) : 4)
        + (e.TrackingEventDetailsObject is { } details ? GoJson.MaxObjectBytes(details) : 4));

    private static int WriteCommon(Span<byte> line, ExportableEvent e, EncodedStrings? strings)
    {
        int position = strings is null ? WriteKinds(line, e.Kind, e.ContextKind) : strings.WriteKinds(line, e.Kind, e.ContextKind);
        position += GoJson.WriteString(line[position..], e.UserKey);
        position += GoJson.Literal(line[position..], ",\"creationDate\":"u8);
        position += strings is null ? WriteInteger(line[position..], e.CreationDate) : strings.WriteDate(line[position..], e.CreationDate);
        return position;
    }

    /// <summary>The flag key, the variation and the value's name: <c>,"key":…,"variation":…,"value":</c>.</summary>
    private static int WriteKeyAndVariation(Span<byte> line, string key, string variation)
    {
        int position = GoJson.Literal(line, ",\"key\":"u8);
        position += GoJson.WriteString(line[position..], key);
        position += GoJson.Literal(line[position..], ",\"variation\":"u8);
        position += GoJson.WriteString(line[position..], variation);
        return position + GoJson.Literal(line[position..], ",\"value\":"u8);
    }

    /// <summary>The start of a line, up to the user key's value: <c>{"kind":…,"contextKind":…,"userKey":</c>.</summary>
    private static int WriteKinds(Span<byte> line, string kind, string contextKind)
    {
        int position = GoJson.Literal(line, "{\"kind\":"u8);
        position += GoJson.WriteString(line[position..], kind);
        if (!string.IsNullOrEmpty(contextKind))
        {
            position += GoJson.Literal(line[position..], ",\"contextKind\":"u8);
            position += GoJson.WriteString(line[position..], contextKind);
        }

        return position + GoJson.Literal(line[position..], ",\"userKey\":"u8);
    }

    /// <summary>The version and source of a feature line: <c>,"version":…,"source":…</c>.</summary>
    private static int WriteVersionAndSource(Span<byte> line, string version, string source)
    {
        int position = GoJson.Literal(line, ",\"version\":"u8);
        position += GoJson.WriteString(line[position..], version);
        position += GoJson.Literal(line[position..], ",\"source\":"u8);
        return position + GoJson.WriteString(line[position..], source);
    }

    private static int WriteFeature(Span<byte> line, FeatureEvent e, EncodedStrings? strings)
    {
        int position = WriteCommon(line, e, strings);
        position += strings is null
            ? WriteKeyAndVariation(line[position..], e.Key, e.Variation)
            : strings.WriteKeyAndVariation(line[position..], e.Key, e.Variation);
        position += e.Value.Kind switch
        {
            FlagValueKind.String when strings is not null => strings.Write(line[position..], e.Value.AsString()),
            FlagValueKind.Object when strings is not null => strings.WriteObject(line[position..], e.Value.AsObject()),
            _ => GoJson.WriteValue(line[position..], e.Value),
        };
        position += GoJson.Literal(line[position..], e.Default ? ",\"default\":true"u8 : ",\"default\":false"u8);
        position += strings is null
            ? WriteVersionAndSource(line[position..], e.Version, e.Source)
            : strings.WriteVersionAndSource(line[position..], e.Version, e.Source);
        if (e.MetadataObject is { Count: > 0 } metadata)
        {
            position += GoJson.Literal(line[position..], ",\"metadata\":"u8);
            position += strings is null ? GoJson.WriteObject(line[position..], metadata) : strings.WriteObject(line[position..], metadata);
        }

        return position + GoJson.Literal(line[position..], "}\n"u8);
    }

    private static int WriteTracking(Span<byte> line, TrackingEvent e, EncodedStrings? strings)
    {
        int position = WriteCommon(line, e, strings);
        position += GoJson.Literal(line[position..], ",\"key\":"u8);
        position += Write(line[position..], e.Key, strings);
        position += GoJson.Literal(line[position..], ",\"evaluationContext\":"u8);
        position += WriteObjectOrNull(line[position..], e.EvaluationContextObject);
        position += GoJson.Literal(line[position..], ",\"trackingEventDetails\":"u8);
        position += WriteObjectOrNull(line[position..], e.TrackingEventDetailsObject);
        return position + GoJson.Literal(line[position..], "}\n"u8);
    }

    // Go writes a nil map as null.
    private static int WriteObjectOrNull(Span<byte> destination, FlagObject? map) =>
        map is null ? GoJson.Literal(destination, "null"u8) : GoJson.WriteObject(destination, map);

    private static int WriteInteger(Span<byte> destination, long value)
    {
        value.TryFormat(destination, out int written, default, CultureInfo.InvariantCulture);
        return written;
    }

    /// <summary>The bytes <see cref="CopyShort"/> moves at once.</summary>
    private const int ShortCopy = 32;

    /// <summary>
    /// Copies the first <paramref name="length"/> bytes of <paramref name="source"/>: a cached string is usually short,
    /// and a fixed 32-byte move (two vector moves) is cheaper than a copy of variable length. Bytes past
    /// <paramref name="length"/> are scratch: the next field overwrites them.
    /// </summary>
    private static void CopyShort(ReadOnlySpan<byte> source, int length, Span<byte> destination)
    {
        if (length <= ShortCopy && source.Length >= ShortCopy && destination.Length >= ShortCopy)
        {
            Unsafe.CopyBlockUnaligned(ref MemoryMarshal.GetReference(destination), ref MemoryMarshal.GetReference(source), ShortCopy);
        }
        else
        {
            source[..length].CopyTo(destination);
        }
    }

    private static int Write(Span<byte> destination, string value, EncodedStrings? strings) =>
        strings is null ? GoJson.WriteString(destination, value) : strings.Write(destination, value);

    /// <summary>
    /// The encoded bytes of the strings a batch repeats in every line (kind, context kind, flag key, variation, version,
    /// source): the same string instances, event after event, so a lookup by reference replaces the encoding; and the
    /// last creation date's digits.
    /// </summary>
    /// <remarks>
    /// Direct-mapped by a hash of a few chars, matched by reference, with the bytes in one arena: a miss encodes as usual and takes the slot, and
    /// nothing is allocated per event, whatever the strings. Per-event strings such as user keys are not looked up.
    /// </remarks>
    private sealed class EncodedStrings
    {
        private const int Slots = 256;
        private const int MaxBytes = 62;
        private const int ObjectSlots = 8;
        private const int MaxObjectBytes = 512;

        private readonly string?[] _keys = new string?[Slots];
        private readonly byte[] _lengths = new byte[Slots];
        private readonly byte[] _arena = new byte[Slots * MaxBytes];
        private readonly byte[] _date = new byte[ShortCopy];
        private long _dateValue;
        private int _dateLength;

        private readonly FlagObject?[] _objects = new FlagObject?[ObjectSlots];
        private readonly int[] _objectLengths = new int[ObjectSlots];
        private readonly byte[] _objectArena = new byte[ObjectSlots * MaxObjectBytes];

        /// <summary>
        /// Writes an object (metadata, an object value): events that share one, as a request's events share its
        /// metadata, reuse its bytes.
        /// </summary>
        public int WriteObject(Span<byte> destination, FlagObject map)
        {
            int slot = map.Count & (ObjectSlots - 1);
            if (ReferenceEquals(_objects[slot], map))
            {
                int length = _objectLengths[slot];
                _objectArena.AsSpan(slot * MaxObjectBytes, length).CopyTo(destination);
                return length;
            }

            int written = GoJson.WriteObject(destination, map);
            if (written <= MaxObjectBytes)
            {
                destination[..written].CopyTo(_objectArena.AsSpan(slot * MaxObjectBytes));
                _objectLengths[slot] = written;
                _objects[slot] = map;
            }

            return written;
        }

        private readonly PairCache _kinds = new();
        private readonly PairCache _versionAndSource = new();

        /// <summary>
        /// <see cref="JsonLinesEncoder.WriteKeyAndVariation"/> with each string from the cache: the pair repeats too
        /// seldom for a cache of pairs to pay (measured slower).
        /// </summary>
        public int WriteKeyAndVariation(Span<byte> destination, string key, string variation)
        {
            int position = GoJson.Literal(destination, ",\"key\":"u8);
            position += Write(destination[position..], key);
            position += GoJson.Literal(destination[position..], ",\"variation\":"u8);
            position += Write(destination[position..], variation);
            return position + GoJson.Literal(destination[position..], ",\"value\":"u8);
        }

        /// <summary>
        /// <see cref="JsonLinesEncoder.WriteKinds"/>, from the bytes of the last line when its kind and context kind
        /// were the same strings.
        /// </summary>
        public int WriteKinds(Span<byte> destination, string kind, string contextKind) =>
            _kinds.Write(destination, kind, contextKind, static (d, a, b) => JsonLinesEncoder.WriteKinds(d, a, b));

        /// <summary><see cref="JsonLinesEncoder.WriteVersionAndSource"/>, likewise.</summary>
        public int WriteVersionAndSource(Span<byte> destination, string version, string source) =>
            _versionAndSource.Write(destination, version, source, static (d, a, b) => JsonLinesEncoder.WriteVersionAndSource(d, a, b));

        /// <summary>Writes a creation date; events of a batch come in bursts of the same second.</summary>
        public int WriteDate(Span<byte> destination, long value)
        {
            if (value != _dateValue || _dateLength == 0)
            {
                _dateLength = WriteInteger(_date, value);
                _dateValue = value;
            }

            CopyShort(_date, _dateLength, destination);
            return _dateLength;
        }

        public int Write(Span<byte> destination, string value)
        {
            int slot = CheapHash(value) & (Slots - 1);
            Span<byte> cached = _arena.AsSpan(slot * MaxBytes, MaxBytes);
            if (ReferenceEquals(_keys[slot], value))
            {
                int length = _lengths[slot];
                CopyShort(cached, length, destination);
                return length;
            }

            int written = GoJson.WriteString(destination, value);
            if (written <= MaxBytes)
            {
                destination[..written].CopyTo(cached);
                _lengths[slot] = (byte)written;
                _keys[slot] = value;
            }

            return written;
        }
    }

    /// <summary>
    /// A hash of a few chars, cheaper than the identity hash (a call into the runtime) or a full string hash; a collision
    /// only costs a cache miss, as entries are matched by reference.
    /// </summary>
    private static int CheapHash(string value) =>
        value.Length == 0 ? 0 : value.Length ^ (value[0] << 2) ^ (value[^1] << 4) ^ (value[value.Length >> 1] << 1);

    /// <summary>The bytes written for the last pair of strings, reused while the next lines have the same pair.</summary>
    private sealed class PairCache
    {
        private const int MaxBytes = 256;
        private readonly byte[] _bytes = new byte[MaxBytes];
        private string? _first;
        private string? _second;
        private int _length;

        public int Write(Span<byte> destination, string first, string second, WritePair write)
        {
            if (ReferenceEquals(first, _first) && ReferenceEquals(second, _second))
            {
                _bytes.AsSpan(0, _length).CopyTo(destination);
                return _length;
            }

            int written = write(destination, first, second);
            if (written <= MaxBytes)
            {
                destination[..written].CopyTo(_bytes);
                (_first, _second, _length) = (first, second, written);
            }

            return written;
        }
    }

    private delegate int WritePair(Span<byte> destination, string first, string second);
}

using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using FlagExport.Buffers;
using Parquet;
using Parquet.Schema;

namespace FlagExport.Formats;

/// <summary>
/// Writes a batch as one Parquet file in go-feature-flag's schema for feature or tracking events (see
/// <see cref="ParquetSchemas"/>), with Parquet.Net's low-level column writer, in row groups of at most
/// <see cref="RowGroupSize"/> rows.
/// </summary>
/// <remarks>
/// <para>The schema is chosen by the batch: all its events must be of one <see cref="EventType"/>, the one given to
/// the constructor if any. An empty batch gives a valid file with no rows, in that type's schema (feature by
/// default). Rows keep the batch's order.</para>
/// <para>Nothing is allocated per event by this code: string columns are <see cref="ReadOnlyMemory{T}"/> slices of the
/// events' own strings, and JSON text (the <c>value</c> column, non-string map values) is written by
/// <see cref="GoJson"/> into a pooled byte buffer, transcoded into one pooled char buffer and sliced. These scratch
/// buffers hold one row group and are kept for the next; a test holds <see cref="WriteColumnsAsync"/> to this.
/// Parquet.Net itself allocates per row (its dictionary hash table is sized to the row group): docs/parquet.md.</para>
/// <para>Encodings (the measurements behind them are in docs/parquet.md): every string column is dictionary-encoded
/// unless more than 80 % of a row group's values are distinct; <c>creationDate</c> is DELTA_BINARY_PACKED. Every
/// column chunk carries min/max statistics but <c>default</c> (Parquet.Net writes none for booleans).</para>
/// <para>Safe to call from several threads: a call that finds the scratch buffers in use works with its own.</para>
/// </remarks>
internal sealed class ParquetEncoder : IBatchEncoder, IDisposable
{
    // Rows whose JSON is one of these literals point at them instead of the char buffer.
    private static readonly ReadOnlyMemory<char> NullText = "null".AsMemory();
    private static readonly ReadOnlyMemory<char> TrueText = "true".AsMemory();
    private static readonly ReadOnlyMemory<char> FalseText = "false".AsMemory();

    private readonly ParquetOptions _options;
    private readonly EventType? _eventType;
    private readonly int _rowGroupSize;
    private Scratch? _scratch;

    /// <summary>Creates an encoder that compresses pages with <paramref name="compression"/>.</summary>
    /// <param name="compression">Usually from <see cref="ParquetCompressionCodecs.Parse"/>. <see cref="CompressionMethod.LZ4"/>
    /// is written as <see cref="CompressionMethod.Lz4Raw"/>, as <see cref="ParquetCompressionCodecs"/> explains.</param>
    /// <param name="eventType">The only event type this encoder accepts, and the schema of an empty batch; null to
    /// accept either (one per batch) and write an empty batch with the feature schema.</param>
    /// <param name="rowGroupSize">The most rows in one row group, at least 1; see <see cref="CheckRowGroupSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="CompressionMethod.Lzo"/>, which Parquet.Net cannot write.</exception>
    /// <exception cref="ArgumentException"><paramref name="rowGroupSize"/> is below 1.</exception>
    public ParquetEncoder(
        CompressionMethod compression = ParquetCompressionCodecs.Default, EventType? eventType = null,
        int rowGroupSize = ExportFileOptions.DefaultParquetRowGroupSize)
    {
        _rowGroupSize = CheckRowGroupSize(rowGroupSize, nameof(rowGroupSize));
        if (compression == CompressionMethod.Lzo || !Enum.IsDefined(compression))
        {
            throw new ArgumentOutOfRangeException(nameof(compression), compression, "Parquet.Net cannot write this codec.");
        }

        if (eventType is { } type && !Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(eventType), eventType, null);
        }

        _eventType = eventType;

        if (compression == CompressionMethod.LZ4)
        {
            compression = CompressionMethod.Lz4Raw;
        }

        Compression = compression;
        _options = new ParquetOptions
        {
            CompressionMethod = compression,
            CompressionLevel = ChooseCompressionLevel(compression),

            // No sampling: whether a column pays for a dictionary is decided on the whole row group. A prefix of user
            // keys is nearly all distinct even when the row group repeats each key many times, and the dictionary is
            // most of the file's size saving.
            DictionaryEncodingSampleSize = 0,
        };
        ParquetSchemas.AddEncodingHints(_options);
    }

    /// <summary>The only event type accepted, or null for either.</summary>
    public EventType? EventType => _eventType;

    /// <summary>The codec pages are compressed with.</summary>
    public CompressionMethod Compression { get; }

    /// <summary>The level the codec runs at; see <see cref="ChooseCompressionLevel"/>.</summary>
    public CompressionLevel CompressionLevel => _options.CompressionLevel;

    /// <summary>The most rows in one row group.</summary>
    public int RowGroupSize => _rowGroupSize;

    public ExportFormat Format => ExportFormat.Parquet;

    /// <summary>Creates an encoder from the <c>ParquetCompressionCodec</c> option.</summary>
    /// <exception cref="ArgumentException">The option names no codec; the message lists the valid ones.</exception>
    public static ParquetEncoder FromOption(string? parquetCompressionCodec, EventType? eventType = null) =>
        new(ParquetCompressionCodecs.Parse(parquetCompressionCodec), eventType);

    /// <summary>Returns <paramref name="rowGroupSize"/>, or throws an error naming the option and the value if it is below 1.</summary>
    /// <param name="rowGroupSize">The most rows in one row group.</param>
    /// <param name="optionName">The option's name in the message, and the exception's <see cref="ArgumentException.ParamName"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="rowGroupSize"/> is below 1.</exception>
    public static int CheckRowGroupSize(int rowGroupSize, string optionName) =>
        rowGroupSize >= 1
            ? rowGroupSize
            : throw OptionErrors.Invalid(
                string.Create(CultureInfo.InvariantCulture, $"{optionName} must be at least 1 (the most rows in one Parquet row group); got '{rowGroupSize}'."),
                optionName);

    /// <inheritdoc/>
    /// <remarks>If this throws, <paramref name="output"/> holds a partial file and should be discarded.</remarks>
    public async ValueTask EncodeAsync(IReadOnlyList<ExportableEvent> events, PooledBufferWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(output);
        EventType type = GetBatchType(events);
        cancellationToken.ThrowIfCancellationRequested();

        using var stream = new BufferWriterStream(output);
        ParquetSchema schema = type == FlagExport.EventType.Feature ? ParquetSchemas.Feature : ParquetSchemas.Tracking;
        ParquetWriter writer = await ParquetWriter.CreateAsync(schema, stream, _options, append: false, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            // An empty batch still gets one (empty) row group, so that every file has the same shape.
            int start = 0;
            do
            {
                int count = Math.Min(_rowGroupSize, events.Count - start);

                // A row group must be disposed (it records its row count and sizes) before the next one or the footer.
                using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
                await WriteRowGroupColumnsAsync(type, new EventRange(events, start, count), new RowGroupSink(rowGroup), cancellationToken).ConfigureAwait(false);
                rowGroup.CompleteValidate();
                start += count;
            }
            while (start < events.Count);
        }
    }

    /// <summary>
    /// Builds the columns of a batch of <paramref name="type"/> events in the kept scratch buffers and hands them, in
    /// schema order, to <paramref name="sink"/>: the work of <see cref="EncodeAsync"/> apart from Parquet.Net's, which a
    /// test measures with a sink that discards the columns.
    /// </summary>
    /// <remarks>Every event must be of <paramref name="type"/>, as <see cref="EncodeAsync"/> checks first.</remarks>
    internal ValueTask WriteColumnsAsync(EventType type, IReadOnlyList<ExportableEvent> events, IParquetColumnSink sink, CancellationToken cancellationToken) =>
        WriteRowGroupColumnsAsync(type, new EventRange(events, 0, events.Count), sink, cancellationToken);

    /// <summary>The columns of the row group <paramref name="events"/>, as <see cref="WriteColumnsAsync"/>.</summary>
    private async ValueTask WriteRowGroupColumnsAsync(EventType type, EventRange events, IParquetColumnSink sink, CancellationToken cancellationToken)
    {
        Scratch scratch = Interlocked.Exchange(ref _scratch, null) ?? new Scratch();
        try
        {
            if (type == FlagExport.EventType.Feature)
            {
                await WriteFeatureColumnsAsync(sink, events, scratch, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await WriteTrackingColumnsAsync(sink, events, scratch, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            scratch.Release();
            if (Interlocked.CompareExchange(ref _scratch, scratch, null) is not null)
            {
                scratch.Dispose(); // another call put its buffers back first
            }
        }
    }

    /// <summary>Returns the buffers kept between batches to the pool; the encoder stays usable.</summary>
    public void Dispose() => Interlocked.Exchange(ref _scratch, null)?.Dispose();

    /// <summary>
    /// The compression level for <paramref name="compression"/>, always set because Parquet.Net's default is
    /// <see cref="CompressionLevel.SmallestSize"/> (zstd 19, the maximum of the other codecs), many times slower.
    /// </summary>
    /// <remarks>
    /// Optimal (each library's usual default level) for the codecs one picks for size; Fastest for LZ4, which one picks
    /// for speed and whose Optimal (LZ4-HC) is about three times slower for 5 % less. SNAPPY and UNCOMPRESSED have no
    /// levels. docs/parquet.md has the measurements.
    /// </remarks>
    internal static CompressionLevel ChooseCompressionLevel(CompressionMethod compression) =>
        compression is CompressionMethod.LZ4 or CompressionMethod.Lz4Raw ? CompressionLevel.Fastest : CompressionLevel.Optimal;

    private EventType GetBatchType(IReadOnlyList<ExportableEvent> events)
    {
        if (events.Count == 0)
        {
            return _eventType ?? FlagExport.EventType.Feature;
        }

        EventType type = events[0]?.EventType ?? throw new ArgumentException("The batch holds a null event at index 0.", nameof(events));
        if (_eventType is { } expected && type != expected)
        {
            throw new ArgumentException($"This Parquet encoder writes {expected} events, but the event at index 0 is {type}.", nameof(events));
        }

        for (int i = 1; i < events.Count; i++)
        {
            ExportableEvent e = events[i] ?? throw new ArgumentException($"The batch holds a null event at index {i}.", nameof(events));
            if (e.EventType != type)
            {
                throw new ArgumentException(
                    $"A Parquet file holds one event type: the batch starts with {type} events but the event at index {i} is {e.EventType}.",
                    nameof(events));
            }
        }

        return type;
    }

    private static async Task WriteFeatureColumnsAsync(IParquetColumnSink sink, EventRange events, Scratch scratch, CancellationToken cancellationToken)
    {
        await WriteCommonColumnsAsync(sink, events, scratch, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(sink, ParquetSchemas.Variation, events, static e => ((FeatureEvent)e).Variation, scratch, cancellationToken).ConfigureAwait(false);
        await WriteValuesAsync(sink, events, scratch, cancellationToken).ConfigureAwait(false);

        bool[] defaults = scratch.Booleans(events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            defaults[i] = ((FeatureEvent)events[i]).Default;
        }

        await sink.WriteAsync(ParquetSchemas.Default, new ReadOnlyMemory<bool>(defaults, 0, events.Count), null, null, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(sink, ParquetSchemas.Version, events, static e => ((FeatureEvent)e).Version, scratch, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(sink, ParquetSchemas.Source, events, static e => ((FeatureEvent)e).Source, scratch, cancellationToken).ConfigureAwait(false);
        await WriteMapAsync(sink, ParquetSchemas.Metadata, events, static e => ((FeatureEvent)e).MetadataObject, scratch, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteTrackingColumnsAsync(IParquetColumnSink sink, EventRange events, Scratch scratch, CancellationToken cancellationToken)
    {
        await WriteCommonColumnsAsync(sink, events, scratch, cancellationToken).ConfigureAwait(false);
        await WriteMapAsync(sink, ParquetSchemas.EvaluationContext, events, static e => ((TrackingEvent)e).EvaluationContextObject, scratch, cancellationToken).ConfigureAwait(false);
        await WriteMapAsync(sink, ParquetSchemas.TrackingEventDetails, events, static e => ((TrackingEvent)e).TrackingEventDetailsObject, scratch, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteCommonColumnsAsync(IParquetColumnSink sink, EventRange events, Scratch scratch, CancellationToken cancellationToken)
    {
        await WriteTextAsync(sink, ParquetSchemas.Kind, events, static e => e.Kind, scratch, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(sink, ParquetSchemas.ContextKind, events, static e => e.ContextKind, scratch, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(sink, ParquetSchemas.UserKey, events, static e => e.UserKey, scratch, cancellationToken).ConfigureAwait(false);

        long[] dates = scratch.Longs(events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            dates[i] = events[i].CreationDate;
        }

        await sink.WriteAsync(ParquetSchemas.CreationDate, new ReadOnlyMemory<long>(dates, 0, events.Count), null, null, cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(sink, ParquetSchemas.Key, events, static e => e.Key, scratch, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a REQUIRED string column from the events' own strings (null is written as empty).</summary>
    private static Task WriteTextAsync(
        IParquetColumnSink sink, DataField field, EventRange events,
        Func<ExportableEvent, string?> select, Scratch scratch, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<char>[] column = scratch.Texts(events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            column[i] = select(events[i]).AsMemory();
        }

        return sink.WriteAsync(field, new ReadOnlyMemory<ReadOnlyMemory<char>>(column, 0, events.Count), null, null, cancellationToken);
    }

    /// <summary>Writes the <c>value</c> column: each value's Go JSON encoding, a string with its quotes.</summary>
    private static Task WriteValuesAsync(IParquetColumnSink sink, EventRange events, Scratch scratch, CancellationToken cancellationToken)
    {
        int count = events.Count;
        ReadOnlyMemory<char>[] column = scratch.Texts(count);
        int[] starts = scratch.Starts(count);
        int[] lengths = scratch.Lengths(count);
        scratch.ResetChars();
        for (int i = 0; i < count; i++)
        {
            column[i] = TextOrAppendJson(((FeatureEvent)events[i]).Value, scratch, out starts[i], out lengths[i]);
        }

        scratch.SliceAppended(column, starts, lengths, count);
        return sink.WriteAsync(ParquetSchemas.Value, new ReadOnlyMemory<ReadOnlyMemory<char>>(column, 0, count), null, null, cancellationToken);
    }

    /// <summary>
    /// Writes a MAP&lt;UTF8, UTF8&gt; column: keys raw, string values raw, other values as Go JSON; a null or empty
    /// object is an empty map. Both leaf columns get the same
    /// explicit definition and repetition levels, so that an empty map reads as empty in both, never as a null value.
    /// </summary>
    private static async Task WriteMapAsync(
        IParquetColumnSink sink, MapField field, EventRange events,
        Func<ExportableEvent, FlagObject?> select, Scratch scratch, CancellationToken cancellationToken)
    {
        int levelCount = 0, entryCount = 0;
        for (int i = 0; i < events.Count; i++)
        {
            int properties = select(events[i])?.Count ?? 0;
            entryCount += properties;
            levelCount += Math.Max(properties, 1);
        }

        int[] definitions = scratch.Definitions(levelCount);
        int[] repetitions = scratch.Repetitions(levelCount);
        ReadOnlyMemory<char>[] keys = scratch.Texts(entryCount);
        ReadOnlyMemory<char>[] values = scratch.MapValues(entryCount);
        int[] starts = scratch.Starts(entryCount);
        int[] lengths = scratch.Lengths(entryCount);
        scratch.ResetChars();

        int level = 0, entry = 0;
        for (int i = 0; i < events.Count; i++)
        {
            FlagObject? map = select(events[i]);
            if (map is null || map.Count == 0)
            {
                definitions[level] = ParquetSchemas.EmptyMapDefinitionLevel;
                repetitions[level] = 0;
                level++;
                continue;
            }

            int repetition = 0;
            foreach (KeyValuePair<string, FlagValue> property in map.Properties)
            {
                definitions[level] = ParquetSchemas.MapEntryDefinitionLevel;
                repetitions[level] = repetition;
                repetition = 1;
                level++;

                keys[entry] = property.Key.AsMemory();
                if (property.Value.Kind == FlagValueKind.String)
                {
                    values[entry] = property.Value.AsString().AsMemory();
                    starts[entry] = -1;
                }
                else
                {
                    values[entry] = TextOrAppendJson(property.Value, scratch, out starts[entry], out lengths[entry]);
                }

                entry++;
            }
        }

        scratch.SliceAppended(values, starts, lengths, entryCount);
        var definitionLevels = new ReadOnlyMemory<int>(definitions, 0, levelCount);
        var repetitionLevels = new ReadOnlyMemory<int>(repetitions, 0, levelCount);
        DataField keyField = (DataField)field.Key, valueField = (DataField)field.Value;
        await sink.WriteAsync(keyField, new ReadOnlyMemory<ReadOnlyMemory<char>>(keys, 0, entryCount), definitionLevels, repetitionLevels, cancellationToken).ConfigureAwait(false);
        await sink.WriteAsync(valueField, new ReadOnlyMemory<ReadOnlyMemory<char>>(values, 0, entryCount), definitionLevels, repetitionLevels, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Returns the text of a JSON literal (null, true, false) with <paramref name="start"/> -1, or appends the value's
    /// Go JSON to the char buffer and returns default with its position, to be sliced once the buffer stops growing.
    /// </summary>
    private static ReadOnlyMemory<char> TextOrAppendJson(in FlagValue value, Scratch scratch, out int start, out int length)
    {
        switch (value.Kind)
        {
            case FlagValueKind.Null:
                (start, length) = (-1, 0);
                return NullText;
            case FlagValueKind.Boolean:
                (start, length) = (-1, 0);
                return value.AsBoolean() ? TrueText : FalseText;
            default:
                (start, length) = scratch.AppendJson(value);
                return default;
        }
    }

    /// <summary>Rows <c>Start</c> to <c>Start + Count - 1</c> of a batch: one row group, without copying the batch.</summary>
    private readonly struct EventRange(IReadOnlyList<ExportableEvent> events, int start, int count)
    {
        public int Count => count;

        public ExportableEvent this[int index] => events[start + index];
    }

    /// <summary>Parquet.Net's row group writer as a sink: required columns without levels, map columns with both.</summary>
    private sealed class RowGroupSink(ParquetRowGroupWriter rowGroup) : IParquetColumnSink
    {
        public Task WriteAsync<T>(DataField field, ReadOnlyMemory<T> values, ReadOnlyMemory<int>? definitionLevels, ReadOnlyMemory<int>? repetitionLevels, CancellationToken cancellationToken)
            where T : struct =>
            definitionLevels is null
                ? rowGroup.WriteAsync(field, values, repetitionLevels, null, cancellationToken)
                : rowGroup.WriteAllPartsAsync(field, values, definitionLevels, repetitionLevels, cancellationToken);
    }

    /// <summary>Buffers reused from one batch to the next; one batch uses them at a time.</summary>
    private sealed class Scratch : IDisposable
    {
        private readonly PooledBufferWriter _json = new(4096);
        private ReadOnlyMemory<char>[] _texts = [];
        private ReadOnlyMemory<char>[] _mapValues = [];
        private int[] _starts = [];
        private int[] _lengths = [];
        private int[] _definitions = [];
        private int[] _repetitions = [];
        private long[] _longs = [];
        private bool[] _booleans = [];
        private char[] _chars = [];
        private int _charCount;

        public ReadOnlyMemory<char>[] Texts(int count) => Ensure(ref _texts, count);

        public ReadOnlyMemory<char>[] MapValues(int count) => Ensure(ref _mapValues, count);

        public int[] Starts(int count) => Ensure(ref _starts, count);

        public int[] Lengths(int count) => Ensure(ref _lengths, count);

        public int[] Definitions(int count) => Ensure(ref _definitions, count);

        public int[] Repetitions(int count) => Ensure(ref _repetitions, count);

        public long[] Longs(int count) => Ensure(ref _longs, count);

        public bool[] Booleans(int count) => Ensure(ref _booleans, count);

        /// <summary>Starts a new column in the char buffer; slices of the previous column must no longer be in use.</summary>
        public void ResetChars() => _charCount = 0;

        /// <summary>Appends the Go JSON of <paramref name="value"/> to the char buffer and returns where it is.</summary>
        public (int Start, int Length) AppendJson(in FlagValue value)
        {
            _json.Clear();
            GoJson.WriteValue(_json, value);
            ReadOnlySpan<byte> utf8 = _json.WrittenSpan;

            // UTF-8 never takes fewer bytes than UTF-16 takes chars, so the byte count is enough room.
            if (_chars.Length - _charCount < utf8.Length)
            {
                Grow(ref _chars, checked(_charCount + utf8.Length), _charCount);
            }

            int length = Encoding.UTF8.GetChars(utf8, _chars.AsSpan(_charCount));
            int start = _charCount;
            _charCount += length;
            return (start, length);
        }

        /// <summary>Points the rows appended with <see cref="AppendJson"/> (start ≥ 0) at the now final char buffer.</summary>
        public void SliceAppended(ReadOnlyMemory<char>[] column, int[] starts, int[] lengths, int count)
        {
            for (int i = 0; i < count; i++)
            {
                if (starts[i] >= 0)
                {
                    column[i] = new ReadOnlyMemory<char>(_chars, starts[i], lengths[i]);
                }
            }
        }

        /// <summary>Forgets the events' strings so that the kept buffers do not keep them alive.</summary>
        public void Release()
        {
            Array.Clear(_texts);
            Array.Clear(_mapValues);
            _charCount = 0;
        }

        public void Dispose()
        {
            Release();
            _json.Dispose();
            Return(ref _texts);
            Return(ref _mapValues);
            Return(ref _starts);
            Return(ref _lengths);
            Return(ref _definitions);
            Return(ref _repetitions);
            Return(ref _longs);
            Return(ref _booleans);
            Return(ref _chars);
        }

        private static void Return<T>(ref T[] array)
        {
            if (array.Length > 0)
            {
                ArrayPool<T>.Shared.Return(array);
            }

            array = [];
        }

        private static T[] Ensure<T>(ref T[] array, int count)
        {
            if (array.Length < count)
            {
                Grow(ref array, count, 0);
            }

            return array;
        }

        private static void Grow<T>(ref T[] array, int count, int keep)
        {
            T[] larger = ArrayPool<T>.Shared.Rent(Math.Max(count, array.Length * 2));
            array.AsSpan(0, keep).CopyTo(larger);
            if (array.Length > 0)
            {
                ArrayPool<T>.Shared.Return(array, clearArray: RuntimeHelpersIsReference<T>());
            }

            array = larger;
        }

        private static bool RuntimeHelpersIsReference<T>() => System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>();
    }
}

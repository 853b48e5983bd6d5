using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using FlagExport.Buffers;
using FlagExport.Formats;
using Parquet;
using Parquet.Serialization;

namespace FlagExport.Benchmarks;

/// <summary>
/// Parquet (SNAPPY and ZSTD) for 100,000 events: FlagExport's low-level column writer against what a straightforward port does,
/// <see cref="ParquetSerializer"/> over one POCO per event, with the same codec and an explicit level.
/// </summary>
/// <remarks>
/// FlagExportColumnsOnly is the encoder's own work (the same columns, handed to a sink that discards them): it allocates
/// nothing per event. What the encoder allocates beyond it is Parquet.Net's, chiefly a dictionary hash table sized to the
/// row count for each string column, which docs/parquet.md traces in Parquet.Net's source. The <c>parquet-columns</c>
/// command shows where the bytes of both files go.
/// Results: <c>bench/run.sh</c> writes them to <c>bench/results/latest.md</c>.
/// </remarks>
[MemoryDiagnoser]
public class ParquetEncodingBenchmarks
{
    private ExportableEvent[] _events = [];
    private PooledBufferWriter _buffer = null!;
    private ParquetEncoder _encoder = null!;
    private MemoryStream _baselineStream = null!;
    private ParquetOptions _serializerOptions = null!;
    private ParquetOptions _serializerDictionaryOptions = null!;

    /// <summary>Events per encoded batch; times and allocations are reported per event.</summary>
    public const int Events = 100_000;

    /// <summary>The codec, for FlagExport and the baseline alike.</summary>
    [Params("SNAPPY", "ZSTD")]
    public string Codec { get; set; } = "SNAPPY";

    [GlobalSetup]
    public void Setup()
    {
        _events = SampleBatch.Create(Events);
        _buffer = new PooledBufferWriter(4 * 1024 * 1024);
        CompressionMethod codec = ParquetCompressionCodecs.Parse(Codec);
        _encoder = new ParquetEncoder(codec, EventType.Feature);
        _baselineStream = new MemoryStream(16 * 1024 * 1024);

        // Parquet.Net's default level is SmallestSize: set the level the encoder uses.
        _serializerOptions = new ParquetOptions { CompressionMethod = codec, CompressionLevel = _encoder.CompressionLevel };

        // The same serializer asked to dictionary-encode its string columns, as the encoder does: the file is then about
        // the encoder's size, so this row isolates the cost of the serializer itself.
        _serializerDictionaryOptions = new ParquetOptions { CompressionMethod = codec, CompressionLevel = _encoder.CompressionLevel };
        foreach (Parquet.Schema.DataField field in typeof(ParquetRow).GetParquetSchema(forWriting: false).GetDataFields())
        {
            if (field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>))
            {
                _serializerDictionaryOptions.ColumnEncodingHints[field.Path.ToString()] = EncodingHint.Dictionary;
            }
        }

        // File sizes, for the comment above: printed once in the log.
        Console.WriteLine($"// File sizes: serializer {SerializerAsync(_serializerOptions).GetAwaiter().GetResult():N0} B, "
            + $"serializer + dictionary {SerializerAsync(_serializerDictionaryOptions).GetAwaiter().GetResult():N0} B, "
            + $"ParquetEncoder {FlagExportParquetEncoder().GetAwaiter().GetResult():N0} B");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encoder.Dispose();
        _buffer.Dispose();
    }

    /// <summary>What a straightforward port does: a POCO per event, then <see cref="ParquetSerializer"/>.SerializeAsync.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public Task<long> ParquetSerializerPerEvent() => SerializerAsync(_serializerOptions);

    [Benchmark(OperationsPerInvoke = Events)]
    public Task<long> ParquetSerializerWithDictionary() => SerializerAsync(_serializerDictionaryOptions);

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<long> FlagExportParquetEncoder()
    {
        _buffer.Clear();
        await _encoder.EncodeAsync(_events, _buffer, CancellationToken.None);
        return _buffer.WrittenCount;
    }

    /// <summary>The encoder's own work alone: the same columns built, handed to a sink that discards them.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<long> FlagExportColumnsOnly()
    {
        await _encoder.WriteColumnsAsync(EventType.Feature, _events, DiscardingSink.Instance, CancellationToken.None);
        return _events.Length;
    }

    private async Task<long> SerializerAsync(ParquetOptions options)
    {
        // A list, not a lazy sequence: the serializer enumerates the rows once per column.
        var rows = new List<ParquetRow>(_events.Length);
        foreach (FeatureEvent e in _events.Cast<FeatureEvent>())
        {
            rows.Add(new ParquetRow
            {
                kind = e.Kind,
                contextKind = e.ContextKind,
                userKey = e.UserKey,
                creationDate = e.CreationDate,
                key = e.Key,
                variation = e.Variation,
                value = e.Value.ToString(),
                @default = e.Default,
                version = e.Version,
                source = e.Source,
                metadata = e.Metadata?.ToDictionary(p => p.Key, p => p.Value.ToString()),
            });
        }

        _baselineStream.SetLength(0);
        await ParquetSerializer.SerializeAsync(rows, _baselineStream, options);
        return _baselineStream.Length;
    }

    /// <summary>The baseline's file for this codec, for the column table of <see cref="ParquetColumnSizes"/>.</summary>
    internal byte[] SerializerFile()
    {
        _ = SerializerAsync(_serializerOptions).GetAwaiter().GetResult();
        return _baselineStream.ToArray();
    }

    /// <summary>The encoder's file for this codec.</summary>
    internal byte[] EncoderFile()
    {
        _ = FlagExportParquetEncoder().GetAwaiter().GetResult();
        return _buffer.WrittenSpan.ToArray();
    }

    private sealed class DiscardingSink : IParquetColumnSink
    {
        public static readonly DiscardingSink Instance = new();

        public Task WriteAsync<T>(Parquet.Schema.DataField field, ReadOnlyMemory<T> values, ReadOnlyMemory<int>? definitionLevels, ReadOnlyMemory<int>? repetitionLevels, CancellationToken cancellationToken)
            where T : struct => Task.CompletedTask;
    }

    /// <summary>go-feature-flag's column names, as a port would declare them.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006", Justification = "Parquet column names.")]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1002", Justification = "The serializer's map type.")]
    public sealed class ParquetRow
    {
        public string? kind { get; set; }
        public string? contextKind { get; set; }
        public string? userKey { get; set; }
        public long creationDate { get; set; }
        public string? key { get; set; }
        public string? variation { get; set; }
        public string? value { get; set; }
        public bool @default { get; set; }
        public string? version { get; set; }
        public string? source { get; set; }
        public Dictionary<string, string>? metadata { get; set; }
    }
}

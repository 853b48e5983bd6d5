using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using FlagExport.Buffers;
using FlagExport.Formats;

namespace FlagExport.Benchmarks;

/// <summary>JSON lines for 100,000 events: FlagExport's encoder against System.Text.Json per event.</summary>
[MemoryDiagnoser]
public class JsonEncodingBenchmarks
{
    private ExportableEvent[] _events = [];
    private PooledBufferWriter _buffer = null!;
    private ArrayBufferWriter<byte> _baselineBuffer = null!;

    /// <summary>Events per encoded batch; times and allocations are reported per event.</summary>
    public const int Events = 100_000;

    [GlobalSetup]
    public void Setup()
    {
        _events = SampleBatch.Create(Events);
        _buffer = new PooledBufferWriter(32 * 1024 * 1024);
        _baselineBuffer = new ArrayBufferWriter<byte>(32 * 1024 * 1024);
    }

    [GlobalCleanup]
    public void Cleanup() => _buffer.Dispose();

    /// <summary>What a straightforward port writes: a DTO per event through JsonSerializer (not Go's bytes).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public int JsonSerializerPerEvent()
    {
        _baselineBuffer.Clear();
        using var writer = new Utf8JsonWriter(_baselineBuffer);
        foreach (FeatureEvent e in _events.Cast<FeatureEvent>())
        {
            JsonSerializer.Serialize(writer, new
            {
                kind = e.Kind, contextKind = e.ContextKind, userKey = e.UserKey, creationDate = e.CreationDate, key = e.Key,
                variation = e.Variation, value = e.Value.ToString(), @default = e.Default, version = e.Version, source = e.Source,
                metadata = e.Metadata,
            });
            writer.Flush();
            writer.Reset();
            _baselineBuffer.Write("\n"u8);
        }

        return _baselineBuffer.WrittenCount;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<int> FlagExportJsonLines()
    {
        _buffer.Clear();
        await JsonLinesEncoder.Instance.EncodeAsync(_events, _buffer, CancellationToken.None);
        return _buffer.WrittenCount;
    }
}

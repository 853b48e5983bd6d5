using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using FlagExport.Buffers;
using FlagExport.Formats;

namespace FlagExport.Benchmarks;

/// <summary>CSV for 100,000 events: the compiled template against string.Replace per field, per event.</summary>
[MemoryDiagnoser]
public class CsvEncodingBenchmarks
{
    private ExportableEvent[] _events = [];
    private PooledBufferWriter _buffer = null!;
    private CsvEncoder _encoder = null!;

    /// <summary>Events per encoded batch; times and allocations are reported per event.</summary>
    public const int Events = 100_000;

    [GlobalSetup]
    public void Setup()
    {
        _events = SampleBatch.Create(Events);
        _buffer = new PooledBufferWriter(16 * 1024 * 1024);
        _encoder = CsvEncoder.Create(null, EventType.Feature);
    }

    [GlobalCleanup]
    public void Cleanup() => _buffer.Dispose();

    /// <summary>What a straightforward port does: replace each placeholder in a string, then encode the line.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public int StringReplacePerEvent()
    {
        _buffer.Clear();
        foreach (FeatureEvent e in _events.Cast<FeatureEvent>())
        {
            string line = CsvEncoder.DefaultFeatureTemplate
                .Replace("{{ .Kind}}", e.Kind, StringComparison.Ordinal)
                .Replace("{{ .ContextKind}}", e.ContextKind, StringComparison.Ordinal)
                .Replace("{{ .UserKey}}", e.UserKey, StringComparison.Ordinal)
                .Replace("{{ .CreationDate}}", e.CreationDate.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{{ .Key}}", e.Key, StringComparison.Ordinal)
                .Replace("{{ .Variation}}", e.Variation, StringComparison.Ordinal)
                .Replace("{{ .Value}}", e.Value.ToString(), StringComparison.Ordinal)
                .Replace("{{ .Default}}", e.Default ? "true" : "false", StringComparison.Ordinal)
                .Replace("{{ .Source}}", e.Source, StringComparison.Ordinal);
            _buffer.Write(Encoding.UTF8.GetBytes(line));
        }

        return _buffer.WrittenCount;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<int> FlagExportCompiledTemplate()
    {
        _buffer.Clear();
        await _encoder.EncodeAsync(_events, _buffer, CancellationToken.None);
        return _buffer.WrittenCount;
    }
}

using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using FlagExport.Collector.Ingestion;
using FlagExport.Collector.Tests.Ingestion.Reference;
using FlagExport.Json;

namespace FlagExport.Benchmarks;

/// <summary>
/// The collector's parsing of a <c>POST /v1/data/collector</c> body of 100 events, shaped as go-feature-flag's JS
/// provider sends them: the streaming <see cref="CollectRequestParser"/> against the JsonDocument parser it replaced
/// (baseline), same bytes, same process; times and allocations are reported per event.
/// </summary>
[MemoryDiagnoser]
public class IngestionBenchmarks
{
    public const int Events = 100;

    private readonly Utf8StringCache _strings = new();
    private byte[] _body = [];

    /// <summary>Whether each event carries its own two-key metadata map (no request-wide meta then).</summary>
    [Params(false, true)]
    public bool EventMetadata { get; set; }

    [GlobalSetup]
    public void Setup() => _body = Body(Events, EventMetadata);

    [Benchmark(Baseline = true, Description = "JsonDocument (previous)", OperationsPerInvoke = Events)]
    public int JsonDocumentPath() =>
        ReferenceCollectRequest.TryParse(_body, out ReferenceCollectRequest? request, out _) ? request.Events.Count : -1;

    [Benchmark(Description = "Utf8JsonReader streaming", OperationsPerInvoke = Events)]
    public int Streaming()
    {
        var parser = new CollectRequestParser(_strings);
        _ = parser.Parse(_body, isFinalBlock: true);
        return parser.TryComplete(out CollectRequest? request, out _) ? request.Events.Count : -1;
    }

    /// <summary>A body like the load command's: mixed value types over 12 flags, unique user keys.</summary>
    public static byte[] Body(int count, bool eventMetadata)
    {
        string[] values = ["true", "false", "\"variant-b\"", "42", "3.5", "{\"color\":\"blue\",\"size\":3}"];
        string[] variations = ["on", "off", "variant-b", "limit-42", "ratio", "theme-blue"];
        var json = new StringBuilder("{\"events\":[");
        for (int i = 0; i < count; i++)
        {
            int k = i % values.Length;
            _ = json.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                $$"""{"contextKind":"{{(i % 10 == 0 ? "anonymousUser" : "user")}}","kind":"feature","creationDate":{{1733230547 + i}},"default":false,"key":"flag-{{i % 12:D2}}","value":{{values[k]}},"variation":"{{variations[k]}}","userKey":"{{0x94a25909 + (i * 7919):x8}}-20d8-40cc-8500-fee99b569345","source":"PROVIDER_CACHE"{{(eventMetadata ? ",\"metadata\":{\"environment\":\"production\",\"region\":\"eu-west-1\"}" : "")}}}""");
        }

        _ = json.Append(eventMetadata ? "]}" : "],\"meta\":{\"provider\":\"open-feature-js-sdk\"}}");
        return Encoding.UTF8.GetBytes(json.ToString());
    }
}

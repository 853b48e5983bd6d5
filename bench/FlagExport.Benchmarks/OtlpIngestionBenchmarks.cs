using System.Globalization;
using BenchmarkDotNet.Attributes;
using FlagExport.Collector.Ingestion;
using FlagExport.Collector.Otlp;
using FlagExport.Collector.Tests.Support;
using FlagExport.Json;

namespace FlagExport.Benchmarks;

/// <summary>
/// The same 100 flag evaluations read by the collector from a <c>POST /v1/data/collector</c> JSON body (the streaming
/// <see cref="CollectRequestParser"/>, baseline) and from an OTLP <c>ExportLogsServiceRequest</c> protobuf body
/// (<see cref="OtlpProtobufReader"/>, a fresh <see cref="OtlpEventBuilder"/> per request over a shared
/// <see cref="Utf8StringCache"/>, as <c>OtlpIngestion</c> reads one); times and allocations per flag event.
/// </summary>
/// <remarks>
/// The OTLP body is what an OpenTelemetry SDK's log exporter sends: a resource with <c>service.name</c> and
/// <c>host.name</c>, one scope, and per evaluation a log record with its time, severity, body, event name and the
/// attributes key, variant, value, context id, provider and reason; among them every tenth record is an application log
/// line that is not a flag evaluation (ignored, but read). The JSON body is <see cref="IngestionBenchmarks.Body"/>,
/// with the request-wide provider.
/// </remarks>
[MemoryDiagnoser]
public class OtlpIngestionBenchmarks
{
    public const int Events = IngestionBenchmarks.Events;

    private readonly Utf8StringCache _strings = new();
    private byte[] _json = [];
    private byte[] _otlp = [];

    [GlobalSetup]
    public void Setup()
    {
        _json = IngestionBenchmarks.Body(Events, eventMetadata: false);
        _otlp = OtlpBody(Events, otherRecordEvery: 10);
    }

    [Benchmark(Baseline = true, Description = "/v1/data/collector JSON", OperationsPerInvoke = Events)]
    public int Json()
    {
        var parser = new CollectRequestParser(_strings);
        _ = parser.Parse(_json, isFinalBlock: true);
        return parser.TryComplete(out CollectRequest? request, out _) ? request.Events.Count : -1;
    }

    [Benchmark(Description = "OTLP/protobuf /v1/logs", OperationsPerInvoke = Events)]
    public int OtlpProtobuf() =>
        OtlpProtobufReader.Read(OtlpSignal.Logs, _otlp, new OtlpEventBuilder(_strings, TimeProvider.System)).Events.Count;

    /// <summary>
    /// An ExportLogsServiceRequest of <paramref name="count"/> flag evaluations, the evaluations of
    /// <see cref="IngestionBenchmarks.Body"/> (same keys, values, variations, user keys; every tenth anonymous, so without
    /// a context id), plus an application log record before every <paramref name="otherRecordEvery"/>th evaluation
    /// (0: none).
    /// </summary>
    public static byte[] OtlpBody(int count, int otherRecordEvery)
    {
        object[] values = [true, false, "variant-b", 42L, 3.5, new KeyValuePair<string, object?>[] { new("color", "blue"), new("size", 3L) }];
        string[] variations = ["on", "off", "variant-b", "limit-42", "ratio", "theme-blue"];
        var records = new List<OtlpLogRecord>();
        for (int i = 0; i < count; i++)
        {
            long time = (1733230547L + i) * 1_000_000_000;
            if (otherRecordEvery > 0 && i % otherRecordEvery == 0)
            {
                records.Add(new OtlpLogRecord(null, time,
                    OtlpRequests.Attribute("http.route", "/checkout"), OtlpRequests.Attribute("http.response.status_code", 200L)));
            }

            int k = i % values.Length;
            var attributes = new List<KeyValuePair<string, object?>>
            {
                OtlpRequests.Attribute("feature_flag.key", string.Create(CultureInfo.InvariantCulture, $"flag-{i % 12:D2}")),
                OtlpRequests.Attribute("feature_flag.provider.name", "go-feature-flag"),
                OtlpRequests.Attribute("feature_flag.result.variant", variations[k]),
                OtlpRequests.Attribute("feature_flag.result.value", values[k]),
                OtlpRequests.Attribute("feature_flag.result.reason", i % 3 == 0 ? "static" : "targeting_match"),
            };
            if (i % 10 != 0)
            {
                attributes.Add(OtlpRequests.Attribute("feature_flag.context.id",
                    string.Create(CultureInfo.InvariantCulture, $"{0x94a25909 + (i * 7919):x8}-20d8-40cc-8500-fee99b569345")));
            }

            records.Add(new OtlpLogRecord("feature_flag.evaluation", time, [.. attributes]) { ObservedTimeUnixNano = time + 1_000_000 });
        }

        return OtlpRequests.Logs("checkout", [.. records]);
    }
}

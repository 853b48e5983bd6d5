using FlagExport.Collector.Ingestion;
using FlagExport.Collector.Otlp;
using FlagExport.Json;

namespace FlagExport.Benchmarks;

/// <summary>
/// Parses <see cref="IngestionBenchmarks"/>' body N times in one process, for an outside profiler or CPU-time counter:
/// <c>perf stat -e task-clock dotnet FlagExport.Benchmarks.dll ingestion-loop N [meta|otlp]</c> at two values of N gives
/// the CPU time per event of the parse alone, without BenchmarkDotNet's build (slow on a loaded machine). <c>otlp</c>
/// reads <see cref="OtlpIngestionBenchmarks"/>' protobuf body instead. Prints the bytes allocated per event; with
/// <c>types</c> last, also the types allocated, sampled by the runtime (<see cref="AllocationSampler"/>).
/// </summary>
public static class IngestionLoop
{
    public static int Run(string[] args)
    {
        int n = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
        string mode = args.Length > 1 ? args[1] : "";
        var strings = new Utf8StringCache();
        Func<int> parse;
        if (mode == "otlp")
        {
            byte[] otlp = OtlpIngestionBenchmarks.OtlpBody(OtlpIngestionBenchmarks.Events, otherRecordEvery: 10);
            parse = () => OtlpProtobufReader.Read(OtlpSignal.Logs, otlp, new OtlpEventBuilder(strings, TimeProvider.System)).Events.Count;
        }
        else
        {
            byte[] body = IngestionBenchmarks.Body(IngestionBenchmarks.Events, mode == "meta");
            parse = () =>
            {
                var parser = new CollectRequestParser(strings);
                _ = parser.Parse(body, isFinalBlock: true);
                return parser.TryComplete(out CollectRequest? request, out _) ? request.Events.Count : -1;
            };
        }

        using AllocationSampler? sampler = args[^1] == "types" ? new AllocationSampler() : null;
        long total = parse();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < n; i++)
        {
            total += parse();
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{mode switch { "otlp" => "otlp", "meta" => "json with metadata", _ => "json" }}: {(double)allocated / n / IngestionBenchmarks.Events:0.0} B/event allocated"));
        foreach ((string type, double share) in sampler?.Shares() ?? [])
        {
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{share,6:P1} {type}"));
        }

        return total > 0 ? 0 : 1;
    }
}

using FlagExport.Collector.Ingestion;
using FlagExport.Json;

namespace FlagExport.Benchmarks;

/// <summary>
/// Parses <see cref="IngestionBenchmarks"/>' body N times in one process, for an outside profiler or CPU-time counter:
/// <c>perf stat -e task-clock dotnet FlagExport.Benchmarks.dll ingestion-loop N [meta]</c> at two values of N gives the
/// CPU time per event of the parse alone, without BenchmarkDotNet's build (slow on a loaded machine).
/// </summary>
public static class IngestionLoop
{
    public static int Run(string[] args)
    {
        int n = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
        bool metadata = args.Length > 1 && args[1] == "meta";
        byte[] body = IngestionBenchmarks.Body(IngestionBenchmarks.Events, metadata);
        var strings = new Utf8StringCache();
        long total = 0;
        for (int i = 0; i < n; i++)
        {
            var parser = new CollectRequestParser(strings);
            _ = parser.Parse(body, isFinalBlock: true);
            total += parser.TryComplete(out CollectRequest? request, out _) ? request.Events.Count : -1;
        }

        return total > 0 ? 0 : 1;
    }
}

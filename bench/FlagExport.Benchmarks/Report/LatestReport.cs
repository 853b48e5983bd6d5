using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace FlagExport.Benchmarks.Report;

/// <summary>
/// <c>report [--out FILE]</c>: a short run of every hot-path benchmark, each against its baseline in the same process,
/// written as one markdown table (<c>bench/results/latest.md</c> by default) with the hot-path targets
/// judged from the ratios of this run. Timings depend on the machine; only ratios within one run are compared.
/// </summary>
internal static class LatestReport
{
    public static int Run(string[] args)
    {
        string output = Path.GetFullPath(args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault() ?? Path.Combine("bench", "results", "latest.md"));
        var started = DateTimeOffset.UtcNow;

        // In-process and short: the whole table in a few minutes on two cores. Three measured iterations are enough to
        // compare a case with its baseline of the same run, not to publish absolute numbers.
        Job job = Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("short");
        IConfig config = Config(job);

        List<Type> types = [typeof(JsonEncodingBenchmarks), typeof(CsvEncodingBenchmarks), typeof(ParquetEncodingBenchmarks), typeof(IngestionBenchmarks), typeof(OtlpIngestionBenchmarks)];
        bool s3 = S3FlushBenchmarks.IsConfigured;
        if (s3)
        {
            types.Add(typeof(S3FlushBenchmarks));
        }

        // Add first and on its own, before the encoders leave hundreds of megabytes of garbage in this process; with more
        // iterations, since each is one invocation of a few milliseconds (its setup fills a pipeline), and three of them
        // leave the nanosecond between its cases within noise.
        IConfig addConfig = Config(job.WithWarmupCount(5).WithIterationCount(15).WithId("add"));
        Summary[] summaries = [BenchmarkRunner.Run<AddBenchmarks>(addConfig), BenchmarkRunner.Run([.. types], config).Single()];
        var table = new StringBuilder();
        WriteHeader(table, started);
        WriteTimes(table, summaries.SelectMany(s => s.Reports));
        WriteSizes(table);
        WriteMemory(table);
        if (!s3)
        {
            _ = table.AppendLine().AppendLine("The S3 flush was not measured: set S3_ENDPOINT (bench/run.sh starts the local server).");
        }

        _ = Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        File.WriteAllText(output, table.ToString());
        Console.WriteLine($"wrote {output}");
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    private static ManualConfig Config(Job job) => ManualConfig.CreateEmpty()
        .AddJob(job)
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddLogger(ConsoleLogger.Default)
        .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance)
        .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);

    private static void WriteHeader(StringBuilder table, DateTimeOffset started)
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
            : "unknown CPU";
        _ = table.AppendLine("# FlagExport benchmarks")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{started:yyyy-MM-dd HH:mm} UTC, {cpu}, {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}.")
            .AppendLine("BenchmarkDotNet short job (3 warm-up and 3 measured iterations, 5 and 15 for `Add`; in process), MemoryDiagnoser; data: `SampleBatch`")
            .AppendLine("(fixed seed: 50 flags, 10,000 users, mixed value types, 20% with metadata). Each row is compared with the baseline")
            .AppendLine("of its own benchmark in this run; `speed-up` is the baseline's time over FlagExport's. Written by `bench/run.sh`.")
            .AppendLine();
    }

    private static void WriteTimes(StringBuilder table, IEnumerable<BenchmarkReport> reports)
    {
        _ = table.AppendLine("| measure | case | FlagExport ns/event | events/s | B/event | baseline | baseline ns/event | baseline B/event | speed-up | target | met |")
            .AppendLine("|---|---|---:|---:|---:|---|---:|---:|---:|---|---|");
        foreach (IGrouping<string, BenchmarkReport> group in reports.GroupBy(r => r.BenchmarkCase.Descriptor.Type.Name + "|" + r.BenchmarkCase.Parameters.DisplayInfo))
        {
            BenchmarkReport? baseline = group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.Baseline);
            foreach (BenchmarkReport report in group.Where(r => !r.BenchmarkCase.Descriptor.Baseline))
            {
                Target target = Targets.For(report.BenchmarkCase.Descriptor.Type, report.BenchmarkCase.Descriptor.WorkloadMethod.Name, report.BenchmarkCase.Parameters.DisplayInfo);
                double? ns = report.ResultStatistics?.Mean;
                double? baselineNs = baseline?.ResultStatistics?.Mean;
                long? bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
                long? baselineBytes = baseline?.GcStats.GetBytesAllocatedPerOperation(baseline.BenchmarkCase);
                double? speedUp = ns is > 0 && baselineNs is > 0 ? baselineNs / ns : null;
                string met = target.Judge(speedUp, bytes);
                _ = table.AppendLine(CultureInfo.InvariantCulture,
                    $"| {target.Measure} | {Case(report)} | {Number(ns)} | {Number(ns is > 0 ? 1e9 / ns : null, "N0")} | {Number(bytes)} | {(baseline is null ? "-" : Name(baseline))} | {Number(baselineNs)} | {Number(baselineBytes)} | {Number(speedUp, "0.00")}× | {target.Text} | {met} |");
            }
        }
    }

    /// <summary>Output bytes per event, per format and codec, FlagExport's against the baseline's, from one encoding of the same data.</summary>
    private static void WriteSizes(StringBuilder table)
    {
        _ = table.AppendLine().AppendLine("| output | FlagExport B/event | baseline | baseline B/event | size ratio | target | met |").AppendLine("|---|---:|---|---:|---:|---|---|");
        var json = new JsonEncodingBenchmarks();
        json.Setup();
        AppendSize(table, "JSON lines", json.FlagExportJsonLines().GetAwaiter().GetResult(), "JsonSerializer per event", json.JsonSerializerPerEvent(), null);
        json.Cleanup();
        var csv = new CsvEncodingBenchmarks();
        csv.Setup();
        AppendSize(table, "CSV (default template)", csv.FlagExportCompiledTemplate().GetAwaiter().GetResult(), "string.Replace per field", csv.StringReplacePerEvent(), null);
        csv.Cleanup();
        foreach (string codec in new[] { "SNAPPY", "ZSTD" })
        {
            var parquet = new ParquetEncodingBenchmarks { Codec = codec };
            parquet.Setup();
            AppendSize(table, $"Parquet {codec}", parquet.FlagExportParquetEncoder().GetAwaiter().GetResult(), "ParquetSerializer", parquet.ParquetSerializerPerEvent().GetAwaiter().GetResult(), 1.0 / 3);
            parquet.Cleanup();
        }
    }

    private static void AppendSize(StringBuilder table, string output, long bytes, string baseline, long baselineBytes, double? atMost)
    {
        double ratio = (double)bytes / baselineBytes;
        string target = atMost is { } limit ? $"≤ {limit:0.00} of the baseline" : "(same content)";
        string met = atMost is { } max ? (ratio <= max ? "yes" : "**no**") : "-";
        _ = table.AppendLine(CultureInfo.InvariantCulture,
            $"| {output} | {(double)bytes / JsonEncodingBenchmarks.Events:0.0} | {baseline} | {(double)baselineBytes / JsonEncodingBenchmarks.Events:0.0} | {ratio:0.00} | {target} | {met} |");
    }

    /// <summary>What one buffered event holds in memory (the event, its strings, its slot), against its JSON line.</summary>
    private static void WriteMemory(StringBuilder table)
    {
        (double held, double json) = BufferedEventMemory.Measure();
        _ = table.AppendLine()
            .AppendLine("| memory | bytes per buffered event | its JSON line | ratio | target | met |")
            .AppendLine("|---|---:|---:|---:|---|---|")
            .AppendLine(CultureInfo.InvariantCulture, $"| an event waiting in a pipeline | {held:0} | {json:0} | {held / json:0.00} | ≤ 2× its JSON size | {(held <= 2 * json ? "yes" : "**no**")} |");
    }

    private static string Case(BenchmarkReport report) =>
        report.BenchmarkCase.Parameters.Count == 0 ? Name(report) : $"{Name(report)} ({report.BenchmarkCase.Parameters.DisplayInfo})";

    private static string Name(BenchmarkReport report) => report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo;

    private static string Number(double? value, string format = "0.0") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Number(long? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-";
}

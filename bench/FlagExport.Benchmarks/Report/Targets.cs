using System.Globalization;

namespace FlagExport.Benchmarks.Report;

/// <summary>What a benchmark row is measured against: its target, if it has one.</summary>
/// <param name="Measure">The row's name in the table.</param>
/// <param name="MinSpeedUp">The least baseline time over FlagExport's time that meets the target, or null.</param>
/// <param name="MaxBytesPerEvent">The most bytes allocated per event that meets the target, or null.</param>
internal sealed record Target(string Measure, double? MinSpeedUp, long? MaxBytesPerEvent)
{
    /// <summary>The target in words.</summary>
    public string Text => (MinSpeedUp, MaxBytesPerEvent) switch
    {
        (null, null) => "-",
        ({ } s, null) => SpeedText(s),
        (null, { } b) => $"≤ {b} B/event",
        ({ } s, { } b) => $"{SpeedText(s)}, ≤ {b} B/event",
    };

    /// <summary>yes, no (bold), or - when there is no target or nothing was measured.</summary>
    public string Judge(double? speedUp, long? bytesPerEvent)
    {
        if (MinSpeedUp is null && MaxBytesPerEvent is null)
        {
            return "-";
        }

        bool met = (MinSpeedUp is not { } min || speedUp >= min) && (MaxBytesPerEvent is not { } max || bytesPerEvent <= max);
        return met ? "yes" : "**no**";
    }

    private static string SpeedText(double minSpeedUp) => minSpeedUp >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"≥ {minSpeedUp:0.#}× faster")
        : string.Create(CultureInfo.InvariantCulture, $"≤ {1 / minSpeedUp:0.0#}× the baseline's time");
}

/// <summary>The hot-path targets, by benchmark class and method.</summary>
internal static class Targets
{
    /// <param name="benchmark">The benchmark class.</param>
    /// <param name="method">The measured method.</param>
    /// <param name="parameters">The case's parameters as BenchmarkDotNet shows them, such as <c>[Threads=2]</c>.</param>
    public static Target For(Type benchmark, string method, string parameters) => (benchmark.Name, method) switch
    {
        (nameof(AddBenchmarks), nameof(AddBenchmarks.DataExporterAdd)) => new("Add", 1.0, 0),
        (nameof(AddBenchmarks), _) => new("Add", 1.0, 0),
        (nameof(JsonEncodingBenchmarks), nameof(JsonEncodingBenchmarks.FlagExportJsonLines)) => new("JSON lines, 100k events", 4.0, 1),
        (nameof(CsvEncodingBenchmarks), nameof(CsvEncodingBenchmarks.FlagExportCompiledTemplate)) => new("CSV, default template", 4.0, null),
        (nameof(ParquetEncodingBenchmarks), nameof(ParquetEncodingBenchmarks.FlagExportParquetEncoder)) => new("Parquet, 100k events", 2.0, null),
        (nameof(ParquetEncodingBenchmarks), _) => new("Parquet, 100k events", null, null),
        (nameof(IngestionBenchmarks), _) => new("collector ingestion, 100-event bodies", null, null),
        // OTLP/protobuf at least as fast per event as the collector's own JSON, the same evaluations.
        (nameof(OtlpIngestionBenchmarks), _) => new("collector ingestion, OTLP/protobuf against JSON, 100 evaluations", 1.0, null),
        // With the default options only; the other threshold is there to show what multipart costs.
        (nameof(S3FlushBenchmarks), nameof(S3FlushBenchmarks.FlagExportFlush)) when parameters.Contains(
            $"MultipartThreshold={FlagExport.S3.S3ExporterOptions.DefaultMultipartThreshold}", StringComparison.Ordinal) =>
            new("flush of 100k events into the local S3 server", 1 / 1.3, null),
        (nameof(S3FlushBenchmarks), _) => new("flush of 100k events into the local S3 server", null, null),
        _ => new(benchmark.Name, null, null),
    };
}

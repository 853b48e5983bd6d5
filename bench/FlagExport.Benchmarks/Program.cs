// Run one benchmark: dotnet run -c Release --project bench/FlagExport.Benchmarks -- --filter '*Json*'
// The parse alone in a loop, for perf: -- ingestion-loop N [meta|otlp] [types] (IngestionLoop).
// The whole table: bench/run.sh (or `-- report [--out FILE]`), which writes bench/results/latest.md.
// Each class compares FlagExport's code with a straightforward baseline in the same run (Ratio column).
using BenchmarkDotNet.Running;
using FlagExport.Benchmarks.Report;

if (args is ["report", ..])
{
    return LatestReport.Run(args[1..]);
}

if (args is ["parquet-rowgroup-memory", ..])
{
    return await FlagExport.Benchmarks.ParquetRowGroupMemory.RunAsync(args[1..]);
}

if (args is ["ingestion-loop", ..])
{
    return FlagExport.Benchmarks.IngestionLoop.Run(args[1..]);
}

if (args is ["parquet-columns"])
{
    return await FlagExport.Benchmarks.ParquetColumnSizes.RunAsync();
}

_ = BenchmarkSwitcher.FromAssembly(typeof(FlagExport.Benchmarks.IngestionBenchmarks).Assembly).Run(args);
return 0;

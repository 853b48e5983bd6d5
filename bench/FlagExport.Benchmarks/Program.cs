// Run: dotnet run -c Release --project bench/FlagExport.Benchmarks -- --filter '*'
// Each class compares FlagExport's code with a straightforward baseline in the same run (Ratio column).
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(FlagExport.Benchmarks.IngestionBenchmarks).Assembly).Run(args);

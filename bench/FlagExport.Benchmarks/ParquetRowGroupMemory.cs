using System.Globalization;
using FlagExport.Buffers;
using FlagExport.Formats;
using Parquet;

namespace FlagExport.Benchmarks;

/// <summary>
/// <c>parquet-rowgroup-memory EVENTS ROWS [CODEC]</c>: encodes EVENTS events of the benchmark's batch in row groups of
/// ROWS rows and prints the file's size, the bytes allocated and how far the process's peak resident memory rose
/// during the encode: the per-row-group cost behind the default of <c>ParquetRowGroupSize</c> (docs/parquet.md).
/// Run each case in its own process, since the peak only grows.
/// </summary>
internal static class ParquetRowGroupMemory
{
    public static async Task<int> RunAsync(string[] args)
    {
        int events = int.Parse(args[0], CultureInfo.InvariantCulture);
        int rows = int.Parse(args[1], CultureInfo.InvariantCulture);
        CompressionMethod codec = ParquetCompressionCodecs.Parse(args.Length > 2 ? args[2] : null);
        ExportableEvent[] batch = SampleBatch.Create(events);
        using var encoder = new ParquetEncoder(codec, EventType.Feature, rows);
        using var output = new PooledBufferWriter(events * 16);

        // A first, small batch loads the code; then the peak is measured from a collected heap.
        await encoder.EncodeAsync(batch.AsMemory(0, Math.Min(1000, events)).ToArray(), output, CancellationToken.None);
        output.Clear();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = Kilobytes("VmRSS:");
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        await encoder.EncodeAsync(batch, output, CancellationToken.None);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        long peak = Kilobytes("VmHWM:");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{events:N0} events, row groups of {rows:N0} rows, {(args.Length > 2 ? args[2] : ParquetCompressionCodecs.Default.ToString())}: file {output.WrittenCount:N0} B ({(double)output.WrittenCount / events:0.00} B/event), allocated {allocated / 1048576.0:N0} MiB, peak RSS +{(peak - before) / 1024.0:N0} MiB"));
        return 0;
    }

    private static long Kilobytes(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}

using FlagExport.Buffers;
using FlagExport.Formats;

namespace FlagExport.Benchmarks.Report;

/// <summary>
/// The memory one event holds while it waits in a pipeline: the event, its own strings and its slot in the buffer, as the
/// collector creates them (a user key of its own per event; flag keys, variations and metadata shared), against the size
/// of its JSON line.
/// </summary>
internal static class BufferedEventMemory
{
    private const int Count = 100_000;

    /// <summary>Bytes held per event, and bytes of its JSON line, averaged over <see cref="Count"/> events.</summary>
    public static (double HeldPerEvent, double JsonPerEvent) Measure()
    {
        ExportableEvent[] template = SampleBatch.Create(Count);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var pipeline = new DataExporter(new DiscardingExporter(), new DataExporterOptions
        {
            FlushInterval = TimeSpan.FromDays(1),
            MaxEventInMemory = Count,
            MaxBufferedEvents = Count,
        });
        foreach (FeatureEvent e in template.Cast<FeatureEvent>())
        {
            // The collector reads each user key from the request into a string of its own.
            _ = pipeline.Add(new FeatureEvent
            {
                ContextKind = e.ContextKind, UserKey = new string(e.UserKey.AsSpan()), CreationDate = e.CreationDate, Key = e.Key,
                Variation = e.Variation, Value = e.Value, Default = e.Default, Version = e.Version, Source = e.Source, Metadata = e.Metadata,
            });
        }

        long held = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(pipeline);
        pipeline.DisposeAsync().AsTask().GetAwaiter().GetResult();

        using var buffer = new PooledBufferWriter(32 * 1024 * 1024);
        JsonLinesEncoder.Instance.EncodeAsync(template, buffer, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return ((double)held / Count, (double)buffer.WrittenCount / Count);
    }

    private sealed class DiscardingExporter : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

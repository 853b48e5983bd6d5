using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;

namespace FlagExport.Benchmarks;

/// <summary>
/// The application's hot path against <see cref="ConcurrentQueue{T}.Enqueue"/> of the same events, the cost set
/// as the target, from one thread and from several at once: <see cref="DataExporter.Add(FeatureEvent)"/>
/// (code that holds the pipeline and the event it has just created) and <see cref="DataExporter.Add(ExportableEvent)"/>
/// (what the sink, the collector and the listeners call, reading the type from the event).
/// </summary>
/// <remarks>
/// Both sides are measured warm, as in a running application: the pipeline's segments came back to its pool after an
/// export, and the queue's last segment, once drained, is reused as a ring. So neither allocates during the
/// measurement and the comparison is the buffer's own work, not the GC's.
/// </remarks>
[MemoryDiagnoser]
public class AddBenchmarks
{
    private const int EventsPerInvoke = 1_000_000;
    private FeatureEvent[] _events = [];
    private DataExporter? _pipeline;
    private ConcurrentQueue<ExportableEvent> _queue = new();

    [Params(1, 2)]
    public int Threads { get; set; }

    // An application adds the event it has just created, which is still in the CPU cache; a million cold events would
    // measure cache misses on reading the event's type (about 16 ns here), not the buffer. So a small hot set is cycled.
    private const int DistinctEvents = 1024;

    [GlobalSetup]
    public void Setup()
    {
        _events = [.. SampleBatch.Create(DistinctEvents).Cast<FeatureEvent>()];

        // A queue's segments grow by doubling up to 1,048,576 slots; after two fill-and-drain rounds its tail segment
        // has that size, so a million enqueues fit into it and allocate nothing (a drained segment is a ring).
        for (int round = 0; round < 2; round++)
        {
            FillQueue();
            DrainQueue();
        }
    }

    [IterationSetup]
    public void IterationSetup()
    {
        DrainQueue();

        // No flush during the measurement: the interval and batch size are out of reach, the bound holds every event.
        _pipeline = new DataExporter(new DiscardingExporter(), new DataExporterOptions
        {
            FlushInterval = TimeSpan.FromDays(1),
            MaxEventInMemory = EventsPerInvoke,
            MaxBufferedEvents = EventsPerInvoke,
        });

        for (int i = 0; i < EventsPerInvoke; i++)
        {
            _ = _pipeline.Add(_events[i & (DistinctEvents - 1)]);
        }

        _pipeline.FlushAsync().GetAwaiter().GetResult();
    }

    [IterationCleanup]
    public void IterationCleanup() => _pipeline!.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerInvoke)]
    public void ConcurrentQueueEnqueue()
    {
        if (Threads == 1)
        {
            FillQueue();
            return;
        }

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, _ =>
        {
            FeatureEvent[] events = _events;
            ConcurrentQueue<ExportableEvent> queue = _queue;
            for (int i = 0, share = EventsPerInvoke / Threads; i < share; i++)
            {
                queue.Enqueue(events[i & (DistinctEvents - 1)]);
            }
        });
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public void DataExporterAdd()
    {
        if (Threads == 1)
        {
            AddShare(EventsPerInvoke);
            return;
        }

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, _ => AddShare(EventsPerInvoke / Threads));
    }

    // The overload for a caller that holds only an ExportableEvent: the pipeline reads the event's type from the event.
    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public void DataExporterAddExportableEvent()
    {
        if (Threads == 1)
        {
            AddShareUntyped(EventsPerInvoke);
            return;
        }

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, _ => AddShareUntyped(EventsPerInvoke / Threads));
    }

    private void AddShareUntyped(int count)
    {
        ExportableEvent[] events = _events;
        DataExporter pipeline = _pipeline!;
        for (int i = 0; i < count; i++)
        {
            _ = pipeline.Add(events[i & (DistinctEvents - 1)]);
        }
    }

    private void AddShare(int count)
    {
        FeatureEvent[] events = _events;
        DataExporter pipeline = _pipeline!;
        for (int i = 0; i < count; i++)
        {
            _ = pipeline.Add(events[i & (DistinctEvents - 1)]);
        }
    }

    private void FillQueue()
    {
        FeatureEvent[] events = _events;
        ConcurrentQueue<ExportableEvent> queue = _queue;
        for (int i = 0; i < EventsPerInvoke; i++)
        {
            queue.Enqueue(events[i & (DistinctEvents - 1)]);
        }
    }

    private void DrainQueue()
    {
        while (_queue.TryDequeue(out _))
        {
        }
    }

    private sealed class DiscardingExporter : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

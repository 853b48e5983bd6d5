using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;

namespace FlagExport.Benchmarks;

/// <summary>
/// The application's hot path: <see cref="DataExporter.Add"/> against <see cref="ConcurrentQueue{T}.Enqueue"/>, the
/// cost the pipeline issue sets as the target, from one thread and from several at once.
/// </summary>
[MemoryDiagnoser]
public class AddBenchmarks
{
    private const int EventsPerInvoke = 1_000_000;
    private ExportableEvent[] _events = [];
    private DataExporter? _pipeline;
    private ConcurrentQueue<ExportableEvent> _queue = new();

    [Params(1, 2)]
    public int Threads { get; set; }

    // An application adds the event it has just created, which is still in the CPU cache; a million cold events would
    // measure cache misses on reading the event's type (about 16 ns here), not the buffer. So a small hot set is cycled.
    private const int DistinctEvents = 1024;

    [GlobalSetup]
    public void Setup() => _events = SampleBatch.Create(DistinctEvents);

    [IterationSetup]
    public void IterationSetup()
    {
        _queue = new ConcurrentQueue<ExportableEvent>();
        // No flush during the measurement: the interval and batch size are out of reach, the bound holds every event.
        _pipeline = new DataExporter(new DiscardingExporter(), new DataExporterOptions
        {
            FlushInterval = TimeSpan.FromDays(1),
            MaxEventInMemory = EventsPerInvoke,
            MaxBufferedEvents = EventsPerInvoke,
        });

        // Warm, as a running application's pipeline is: the buffer's segments, rented once, come back to its pool after
        // an export and are reused, so the measured adds allocate nothing. A fresh ConcurrentQueue has no such state.
        for (int i = 0; i < EventsPerInvoke; i++)
        {
            _ = _pipeline.Add(_events[i & (DistinctEvents - 1)]);
        }

        _pipeline.FlushAsync().GetAwaiter().GetResult();
    }

    [IterationCleanup]
    public void IterationCleanup() => _pipeline!.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerInvoke)]
    public void ConcurrentQueueEnqueue() => Run(e => _queue.Enqueue(e));

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public void DataExporterAdd() => Run(e => _pipeline!.Add(e));

    private void Run(Action<ExportableEvent> add)
    {
        int share = EventsPerInvoke / Threads;
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, _ =>
        {
            ExportableEvent[] events = _events;
            for (int i = 0; i < share; i++)
            {
                add(events[i & (DistinctEvents - 1)]);
            }
        });
    }

    private sealed class DiscardingExporter : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

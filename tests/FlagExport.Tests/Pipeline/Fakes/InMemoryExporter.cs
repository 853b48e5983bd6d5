using System.Collections.Concurrent;

namespace FlagExport.Tests.Pipeline.Fakes;

/// <summary>Records copies of every batch; can be told to fail the next exports.</summary>
internal sealed class InMemoryExporter : IExporter
{
    private readonly ConcurrentQueue<ExportableEvent[]> _batches = new();
    private readonly ConcurrentQueue<ExportableEvent[]> _attempts = new();
    private int _failuresLeft;
    private long _eventCount;
    private int _calls;

    /// <summary>Fails this many of the next calls.</summary>
    public int FailuresLeft
    {
        get => Volatile.Read(ref _failuresLeft);
        set => Volatile.Write(ref _failuresLeft, value);
    }

    public int Calls => Volatile.Read(ref _calls);

    public long EventCount => Interlocked.Read(ref _eventCount);

    public IReadOnlyList<ExportableEvent[]> Batches => [.. _batches];

    /// <summary>Every batch handed over, failed ones included.</summary>
    public IReadOnlyList<ExportableEvent[]> Attempts => [.. _attempts];

    public IEnumerable<long> Ids => _batches.SelectMany(b => b).Select(e => e.CreationDate);

    /// <summary>
    /// Returns an object that, when disposed, stops the failures. Declared after the pipeline, it is disposed before it,
    /// so the pipeline's drain succeeds without the fake clock moving, even when an assertion failed first.
    /// </summary>
    public IDisposable SucceedFromDispose() => new Recovery(this);

    public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        IReadOnlyList<ExportableEvent> events = batch.Events;
        _ = Interlocked.Increment(ref _calls);
        _attempts.Enqueue([.. events]);
        if (Volatile.Read(ref _failuresLeft) > 0 && Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            return Task.FromException(new IOException("Injected failure."));
        }

        _batches.Enqueue([.. events]);
        _ = Interlocked.Add(ref _eventCount, events.Count);
        return Task.CompletedTask;
    }

    private sealed class Recovery(InMemoryExporter exporter) : IDisposable
    {
        public void Dispose() => exporter.FailuresLeft = 0;
    }
}

namespace FlagExport.Tests.Pipeline.Fakes;

/// <summary>
/// Every export hangs, ignoring its cancellation token, until <see cref="Release"/>; then every export succeeds.
/// </summary>
internal sealed class HangingExporter : IExporter
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _eventCount;

    /// <summary>Completes when the first export has started.</summary>
    public Task Started => _started.Task;

    /// <summary>Events of the exports that completed.</summary>
    public long EventCount => Interlocked.Read(ref _eventCount);

    /// <summary>Lets the hung export and all later ones complete.</summary>
    public void Release() => _released.TrySetResult();

    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        IReadOnlyList<ExportableEvent> events = batch.Events;
        _ = _started.TrySetResult();
        await _released.Task; // deliberately not WaitAsync(cancellationToken): a stuck upload that ignores its token
        _ = Interlocked.Add(ref _eventCount, events.Count);
    }
}

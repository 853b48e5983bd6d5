namespace FlagExport.Tests.Pipeline.Fakes;

/// <summary>Never completes on its own: waits for its cancellation token (or ignores it when told to).</summary>
internal sealed class BlockingExporter(bool honourCancellation = true) : IExporter
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Started => _started.Task;

    public Task Cancelled => _cancelled.Task;

    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        _ = _started.TrySetResult();
        using CancellationTokenRegistration registration = cancellationToken.Register(() => _cancelled.TrySetResult());
        await Task.Delay(Timeout.Infinite, honourCancellation ? cancellationToken : CancellationToken.None);
    }
}

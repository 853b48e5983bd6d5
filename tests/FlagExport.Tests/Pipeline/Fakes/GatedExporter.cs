namespace FlagExport.Tests.Pipeline.Fakes;

/// <summary>The first export waits for <see cref="Release"/> and then fails; later exports succeed at once.</summary>
internal sealed class GatedExporter : IExporter
{
    private readonly TaskCompletionSource _firstStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;

    public Task FirstStarted => _firstStarted.Task;

    public int Calls => Volatile.Read(ref _calls);

    public void Release() => _gate.TrySetResult();

    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _calls) == 1)
        {
            _ = _firstStarted.TrySetResult();
            await _gate.Task.WaitAsync(cancellationToken);
            throw new IOException("The first export fails.");
        }
    }
}

namespace FlagExport.Tests.Pipeline.Fakes;

/// <summary>Every export throws.</summary>
internal sealed class AlwaysFailingExporter : IExporter
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        _ = Interlocked.Increment(ref _calls);
        throw new IOException("The destination is down.");
    }
}

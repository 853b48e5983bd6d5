using FlagExport.Collector.Cli;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Cli;

/// <summary>
/// <c>buffer drop-backlog NAME</c> refuses what it must not touch, naming why: a configured exporter (its backlog is
/// exported at start), a name the buffer has no cursor for (listing those it has), a configuration without a buffer.
/// The backlog itself is set aside in the process tests (ExporterIdentityProcessTests).
/// </summary>
public sealed class DropBacklogCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task ConfiguredExporter_IsRefused()
    {
        (int exit, string error) = await RunAsync("bufferDirectory: ./buffer\nexporters:\n  - kind: file\n    name: kept\n", "KEPT");

        Assert.Equal(ExitCodes.StartFailed, exit);
        Assert.Contains("Exporter 'KEPT' is configured (exporters[0])", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownExporter_IsRefused_ListingTheCursorsTheBufferHas()
    {
        string buffer = _directory.Combine("buffer");
        await using (global::FlagExport.Durability.DurableEventStore store = global::FlagExport.Durability.DurableEventStore.Open(buffer, 1L << 20))
        {
            _ = store.OpenCursor("old-exporter", EventType.Feature);
        }

        (int exit, string error) = await RunAsync($"bufferDirectory: {buffer}\nexporters:\n  - kind: file\n    name: kept\n", "ghost");

        Assert.Equal(ExitCodes.StartFailed, exit);
        Assert.Contains("has no cursor for exporter 'ghost'; it has cursors for: 'old-exporter'.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InMemoryMode_IsRefused()
    {
        (int exit, string error) = await RunAsync("bufferDirectory: \"\"\nexporters:\n  - kind: file\n    name: kept\n", "gone");

        Assert.Equal(ExitCodes.StartFailed, exit);
        Assert.Contains("bufferDirectory: is empty or none (memory mode); only a durable buffer keeps a backlog.", error, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Error)> RunAsync(string yaml, string name)
    {
        string config = _directory.Combine("collector.yaml");
        await File.WriteAllTextAsync(config, yaml, TestContext.Current.CancellationToken);
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await DropBacklogCommand.RunAsync(["--config", config], name, output, error, TestContext.Current.CancellationToken);
        return (exit, error.ToString());
    }
}

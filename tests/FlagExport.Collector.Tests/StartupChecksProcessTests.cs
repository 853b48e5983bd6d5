using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

/// <summary>Start-up refuses an outputDir or a deadLetterDirectory it cannot write, naming the key and the path, before it listens.</summary>
public sealed class StartupChecksProcessTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task UnwritableOutputDir_StopsStartUp_WithExitCode1_NamingOutputDirAndThePath()
    {
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), """
            exporters:
              - kind: file
                outputDir: /proc/x
            """, TestContext.Current.CancellationToken);

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains("exporters[0].outputDir: the folder '/proc/x' cannot be created or written", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("FlagExport collector listening", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnwritableDeadLetterDirectory_StopsStartUp_WithExitCode1_NamingTheKeyAndThePath()
    {
        // A batch that can be neither written nor set aside would be retried for good: refused before any is accepted.
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), """
            deadLetterDirectory: /proc/dead
            exporters:
              - kind: file
                outputDir: ./exports
            """, TestContext.Current.CancellationToken);

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains("exporters[0].deadLetterDirectory: the folder '/proc/dead' cannot be created or written", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("FlagExport collector listening", collector.Output, StringComparison.Ordinal);
    }
}

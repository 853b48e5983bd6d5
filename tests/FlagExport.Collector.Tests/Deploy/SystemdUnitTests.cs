using System.Diagnostics;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Deploy;

/// <summary>
/// <c>deploy/systemd/</c>: the unit passes <c>systemd-analyze verify</c>, its stop budget covers the collector's own, and
/// the configuration beside it is one the collector accepts.
/// </summary>
public sealed class SystemdUnitTests : IDisposable
{
    private const string InstalledExecutable = "/usr/local/bin/flagexport-collector";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static string DeployDirectory => Path.GetFullPath(Path.Combine(CollectorProcess.ProjectDirectory, "..", "..", "deploy", "systemd"));

    [Fact]
    public async Task Unit_PassesSystemdAnalyzeVerify_WithoutAWord()
    {
        string? analyze = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);
        if (analyze is null)
        {
            Assert.Skip("systemd-analyze is not installed here (Debian: the systemd package); the unit could not be checked.");
        }

        // verify checks that ExecStart's program exists: point it at the collector these tests built, an executable
        // file like the installed one.
        string apphost = Path.ChangeExtension(CollectorProcess.CollectorDll, null);
        Assert.True(File.Exists(apphost), $"the collector's executable {apphost} was not built");
        string unit = await File.ReadAllTextAsync(Path.Combine(DeployDirectory, "flagexport-collector.service"), TestContext.Current.CancellationToken);
        Assert.Contains($"ExecStart={InstalledExecutable} ", unit, StringComparison.Ordinal);
        string copy = _directory.Combine("flagexport-collector.service");
        await File.WriteAllTextAsync(copy, unit.Replace(InstalledExecutable, apphost, StringComparison.Ordinal), TestContext.Current.CancellationToken);

        using var process = Process.Start(new ProcessStartInfo(analyze, ["verify", "--man=no", copy])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        // An unknown or misspelt directive is only a warning (exit 0), so the output must be empty too.
        Assert.Equal("", (await output + await error).Trim());
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task Unit_WaitsLongerThanTheCollectorsDefaultShutdownBudget()
    {
        string unit = await File.ReadAllTextAsync(Path.Combine(DeployDirectory, "flagexport-collector.service"), TestContext.Current.CancellationToken);
        string line = Assert.Single(unit.Split('\n'), l => l.StartsWith("TimeoutStopSec=", StringComparison.Ordinal));
        TimeSpan stop = TimeSpan.FromSeconds(int.Parse(line["TimeoutStopSec=".Length..].TrimEnd('s', '\r'), System.Globalization.CultureInfo.InvariantCulture));

        // SIGTERM: the host gives every pipeline its ShutdownTimeout plus a margin before it gives up; systemd's SIGKILL
        // must come after that, or the final flush is cut short.
        Assert.True(stop > DataExporterOptions.DefaultShutdownTimeout + CollectorApp.ShutdownMargin, $"TimeoutStopSec={stop.TotalSeconds}s");
    }

    [Fact]
    public async Task ExampleConfiguration_IsAcceptedByValidate()
    {
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", Path.Combine(DeployDirectory, "collector.yaml")]);

        Assert.Equal(ExitCodes.Success, await collector.WaitForExitAsync());
        Assert.Contains("configuration OK: 1 exporter(s)", collector.Output, StringComparison.Ordinal);
        Assert.Contains("file, Parquet, feature events, to /var/lib/flagexport/exports", collector.Output, StringComparison.Ordinal);
    }
}

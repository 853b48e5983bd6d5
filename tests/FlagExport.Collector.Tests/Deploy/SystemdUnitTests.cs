using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using FlagExport.Collector.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Tests.Deploy;

/// <summary>
/// <c>deploy/systemd/</c>: the unit passes <c>systemd-analyze verify</c>, its stop budget covers the collector's own, the
/// configuration beside it is one the collector accepts and writes only where the unit lets it, and the README's
/// "Running it in production" installs them where the unit looks and lists the collector's exit codes.
/// </summary>
public sealed partial class SystemdUnitTests : IDisposable
{
    private const string InstalledExecutable = "/usr/local/bin/flagexport-collector";
    private const string UnitName = "flagexport-collector.service";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static string RepositoryRoot => Path.GetFullPath(Path.Combine(CollectorProcess.ProjectDirectory, "..", ".."));

    private static string DeployDirectory => Path.Combine(RepositoryRoot, "deploy", "systemd");

    private static string ExampleConfiguration => Path.Combine(DeployDirectory, "collector.yaml");

    private static string Unit => File.ReadAllText(Path.Combine(DeployDirectory, UnitName));

    [Fact]
    public async Task Unit_PassesSystemdAnalyzeVerify_WithoutAWord()
    {
        (int exitCode, string output) = await VerifyAsync(Unit);

        // An unknown or misspelt directive is only a warning (exit 0), so the output must be empty too.
        Assert.Equal("", output.Trim());
        Assert.Equal(0, exitCode);
    }

    /// <summary>The check above means something only if verify does report a wrong directive.</summary>
    [Fact]
    public async Task SystemdAnalyzeVerify_ReportsAMisspeltDirective()
    {
        (_, string output) = await VerifyAsync(Unit.Replace("TimeoutStopSec=", "TimeoutStopSecs=", StringComparison.Ordinal));

        Assert.Contains($"{UnitName}:", output, StringComparison.Ordinal);
        Assert.Contains("Unknown key 'TimeoutStopSecs'", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Unit_StartsTheInstalledExecutable_InItsStateDirectory()
    {
        ILookup<string, string> service = Section(Unit, "Service");

        Assert.Equal([$"{InstalledExecutable} --config /etc/flagexport/collector.yaml"], service["ExecStart"]);
        Assert.Equal(["exec"], service["Type"]); // the collector sends no sd_notify readiness
        // Relative paths (the default ./exports and ./dead-letter) land in the state directory too.
        Assert.Equal(["/var/lib/" + Assert.Single(service["StateDirectory"])], service["WorkingDirectory"]);
        Assert.Equal(["strict"], service["ProtectSystem"]);
        Assert.Empty(service["ReadWritePaths"]);
    }

    [Fact]
    public async Task Unit_WaitsLongerThanTheExampleConfigurationsShutdownBudget()
    {
        string timeoutStopSec = Assert.Single(Section(Unit, "Service")["TimeoutStopSec"]);
        Match seconds = SystemdSeconds().Match(timeoutStopSec);
        Assert.True(seconds.Success, $"TimeoutStopSec={timeoutStopSec}: this test reads whole seconds (60 or 60s)");
        TimeSpan stop = TimeSpan.FromSeconds(int.Parse(seconds.Groups[1].Value, CultureInfo.InvariantCulture));

        // The host's budget as the collector computes it for this configuration: every pipeline's ShutdownTimeout plus
        // a margin. systemd's SIGKILL must come after it, or the final flush is cut short.
        await using WebApplication app = CollectorApp.Build(["--config", ExampleConfiguration]);
        TimeSpan budget = app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;

        Assert.Equal(DataExporterOptions.DefaultShutdownTimeout + CollectorApp.ShutdownMargin, budget);
        Assert.True(stop > budget, $"TimeoutStopSec={stop.TotalSeconds}s, the collector's budget {budget.TotalSeconds}s");
    }

    [Fact]
    public async Task ExampleConfiguration_IsAcceptedByValidate()
    {
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", ExampleConfiguration]);

        Assert.Equal(ExitCodes.Success, await collector.WaitForExitAsync());
        Assert.Contains("configuration OK: 1 exporter(s)", collector.Output, StringComparison.Ordinal);
        Assert.Contains("file, Parquet, feature events, to /var/lib/flagexport/exports", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExampleConfiguration_WithItsS3ExporterUncommented_IsAcceptedByValidate()
    {
        string yaml = await File.ReadAllTextAsync(ExampleConfiguration, TestContext.Current.CancellationToken);
        string uncommented = CommentedExporterLine().Replace(yaml, "$1");
        Assert.NotEqual(yaml, uncommented);
        string path = _directory.Combine("collector.yaml");
        await File.WriteAllTextAsync(path, uncommented, TestContext.Current.CancellationToken);

        // No credentials needed: validate makes no request without --check-connectivity.
        using CollectorProcess collector = CollectorProcess.Start(
            _directory.Path, ["validate", "--config", path], unset: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]);

        Assert.True(await collector.WaitForExitAsync() == ExitCodes.Success, collector.Output);
        Assert.Contains("configuration OK: 2 exporter(s)", collector.Output, StringComparison.Ordinal);
        Assert.Matches(@"s3-[a-z0-9-]*[0-9a-f]{8} \(exporters\[1\]\): s3, Parquet", collector.Output);
    }

    [Fact]
    public void ExampleConfiguration_WritesOnlyInTheUnitsStateDirectory()
    {
        string stateDirectory = "/var/lib/" + Assert.Single(Section(Unit, "Service")["StateDirectory"]) + "/";
        IConfigurationRoot yaml = new ConfigurationBuilder().AddYamlFile(ExampleConfiguration, optional: false, reloadOnChange: false).Build();

        // ProtectSystem=strict leaves every other folder read-only: one there would stop start-up or fail every flush.
        string?[] folders =
        [
            yaml["bufferDirectory"],
            yaml["deadLetterDirectory"],
            .. yaml.GetSection("exporters").GetChildren().Select(e => e["outputDir"]).Where(d => d is not null),
        ];
        Assert.Equal(3, folders.Length);
        Assert.All(folders, folder => Assert.StartsWith(stateDirectory, folder, StringComparison.Ordinal));
    }

    [Fact]
    public void Readme_InstallsTheExecutableTheConfigurationAndTheUnit_WhereTheUnitLooks()
    {
        string section = ProductionSection();

        Assert.Contains($"install -m 755 out/FlagExport.Collector {InstalledExecutable}\n", section, StringComparison.Ordinal);
        Assert.Contains("deploy/systemd/collector.yaml /etc/flagexport/collector.yaml\n", section, StringComparison.Ordinal);
        Assert.Contains($"deploy/systemd/{UnitName} /etc/systemd/system/\n", section, StringComparison.Ordinal);
    }

    [Fact]
    public void Readme_ListsEveryExitCodeOfTheCollector()
    {
        int[] documented = [.. ExitCodeRow().Matches(ProductionSection()).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

        IEnumerable<int> exitCodes = typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (int)f.GetRawConstantValue()!);

        Assert.Equal(exitCodes.Order(), documented);
    }

    /// <summary>
    /// Runs <c>systemd-analyze verify</c> on <paramref name="unit"/>, or skips when it is not installed. verify checks
    /// that ExecStart's program exists, and the native executable is not installed where the tests run: the copy
    /// verified starts the collector these tests built, an executable file taking the same arguments.
    /// </summary>
    private async Task<(int ExitCode, string Output)> VerifyAsync(string unit)
    {
        string? analyze = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);
        if (analyze is null)
        {
            Assert.Skip("systemd-analyze is not installed here (Debian: the systemd package); the unit could not be checked.");
        }

        string apphost = Path.ChangeExtension(CollectorProcess.CollectorDll, null);
        Assert.True(File.Exists(apphost), $"the collector's executable {apphost} was not built");
        Assert.Contains($"ExecStart={InstalledExecutable} ", unit, StringComparison.Ordinal);
        string copy = _directory.Combine(UnitName);
        await File.WriteAllTextAsync(copy, unit.Replace(InstalledExecutable, apphost, StringComparison.Ordinal), TestContext.Current.CancellationToken);

        using var process = Process.Start(new ProcessStartInfo(analyze, ["verify", "--man=no", copy])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + await error);
    }

    /// <summary>The directives of one section of a unit file, by key (a key may repeat); comments and blank lines left out.</summary>
    private static ILookup<string, string> Section(string unit, string name)
    {
        var directives = new List<KeyValuePair<string, string>>();
        string? section = null;
        foreach (string raw in unit.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                section = line.Trim('[', ']');
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (section == name && equals > 0)
            {
                directives.Add(new(line[..equals].Trim(), line[(equals + 1)..].Trim()));
            }
        }

        return directives.ToLookup(d => d.Key, d => d.Value, StringComparer.Ordinal);
    }

    /// <summary>docs/production.md up to its first second-level section (the steps, before Native AOT and several instances).</summary>
    private static string ProductionSection()
    {
        string guide = File.ReadAllText(Path.Combine(RepositoryRoot, "docs", "production.md")).ReplaceLineEndings("\n");
        Assert.StartsWith("# Running it in production\n", guide, StringComparison.Ordinal);
        int end = guide.IndexOf("\n## ", StringComparison.Ordinal);
        return end < 0 ? guide : guide[..end];
    }

    /// <summary>A table row of the exit codes: <c>| `3` | ...</c>, indented in its list item.</summary>
    [GeneratedRegex(@"^\s*\| `(\d+)` \|", RegexOptions.Multiline)]
    private static partial Regex ExitCodeRow();

    [GeneratedRegex(@"^(\d+)s?$")]
    private static partial Regex SystemdSeconds();

    /// <summary>A commented line of the example's S3 exporter: <c>#  - kind: s3</c> and the lines indented under it.</summary>
    [GeneratedRegex(@"^#(  - |    )", RegexOptions.Multiline)]
    private static partial Regex CommentedExporterLine();
}

using FlagExport.Collector.Tests.Support;
using FlagExport.Testing.Markdown;

namespace FlagExport.Collector.Tests.Docs;

/// <summary>
/// Every collector configuration shown in README.md and docs/ passes the real executable's <c>validate</c>, as a reader
/// would run it on the example saved as a file: nothing but the file, no connectivity check.
/// </summary>
public sealed class YamlExampleTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>Each YAML block to validate, by <c>file:line</c>.</summary>
    public static TheoryData<string> Examples() => [.. YamlExamples.Cases(Documentation()).Select(block => block.Location)];

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Example_PassesValidate(string example)
    {
        FencedBlock block = YamlExamples.Cases(Documentation()).FirstOrDefault(b => b.Location == example)
            ?? throw new InvalidOperationException($"No YAML block at {example} any more; run the tests again to list the current ones.");
        string? markerProblem = YamlExamples.MarkerProblem(block);
        Assert.True(markerProblem is null, markerProblem);
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), block.Body, TestContext.Current.CancellationToken);

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml"]);

        int exitCode = await collector.WaitForExitAsync();
        Assert.True(exitCode == 0, $"{example}: validate exited {exitCode}:{Environment.NewLine}{collector.Output}");
    }

    [Fact]
    public void Cases_LeaveOutOtherProgramsConfiguration_ButKeepUnknownMarkers_ToFailThem()
    {
        MarkdownFile file = MarkdownFile.Parse("docs/x.md", """
            ```yaml relay-proxy
            exporter: {kind: webhook}
            ```
            ```yaml otel-collector
            service: {}
            ```
            ```yaml
            exporters: [{kind: file}]
            ```
            ```yaml colector
            exporters: [{kind: file}]
            ```
            """);

        FencedBlock[] cases = [.. YamlExamples.Cases([file])];

        Assert.Equal(["docs/x.md:7", "docs/x.md:10"], cases.Select(b => b.Location));
        Assert.Null(YamlExamples.MarkerProblem(cases[0]));
        Assert.Equal(
            "docs/x.md:10: '```yaml colector': unknown marker; a YAML block is a collector configuration, or marked as another program's with one of: " +
            "relay-proxy (go-feature-flag's relay proxy), otel-collector (an OpenTelemetry Collector).",
            YamlExamples.MarkerProblem(cases[1]));
    }

    private static IReadOnlyList<MarkdownFile> Documentation() => MarkdownFile.Documentation(RepositoryPaths.Root);
}

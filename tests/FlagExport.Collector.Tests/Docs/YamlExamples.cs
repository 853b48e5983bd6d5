using FlagExport.Testing.Markdown;

namespace FlagExport.Collector.Tests.Docs;

/// <summary>
/// The YAML blocks of the documentation. Each one is a collector configuration that <c>validate</c> accepts, unless a
/// word after <c>yaml</c> in its info string marks it as another program's configuration (<see cref="OtherPrograms"/>);
/// any other word is a mistake the tests report.
/// </summary>
internal static class YamlExamples
{
    /// <summary>The markers of another program's configuration, and that program: shown for it, not for the collector.</summary>
    public static readonly IReadOnlyDictionary<string, string> OtherPrograms = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["relay-proxy"] = "go-feature-flag's relay proxy",
        ["otel-collector"] = "an OpenTelemetry Collector",
    };

    private static readonly string[] YamlLanguages = ["yaml", "yml"];

    /// <summary>The blocks to validate: every YAML block but those marked as another program's (unknown markers included, to fail).</summary>
    public static IEnumerable<FencedBlock> Cases(IEnumerable<MarkdownFile> files) =>
        files.SelectMany(file => file.Blocks).Where(block => YamlLanguages.Contains(block.Language) && !IsOtherProgram(block));

    /// <summary>Why <paramref name="block"/>'s markers are wrong, or null when it has none.</summary>
    public static string? MarkerProblem(FencedBlock block) =>
        block.Markers.Count == 0
            ? null
            : $"{block.Location}: '```{block.Info}': unknown marker; a YAML block is a collector configuration, or marked as another program's with one of: " +
              string.Join(", ", OtherPrograms.Select(p => $"{p.Key} ({p.Value})")) + ".";

    private static bool IsOtherProgram(FencedBlock block) => block.Markers.Count == 1 && OtherPrograms.ContainsKey(block.Markers[0]);
}

using System.Text.RegularExpressions;
using FlagExport.Testing.Markdown;

namespace FlagExport.Snippets.Tests.CSharpSnippets;

/// <summary>
/// The packages a snippet may use, and those it names: in a <c>dotnet add package NAME</c> line of a sh, bash or shell
/// block above it under the same heading, in a <c>&lt;PackageReference Include="NAME"</c> of an xml block there, or in a
/// <c>// dotnet add package NAME</c> comment at the top of the snippet. A reader starts from an empty project, so each
/// package whose assemblies the snippet uses must be named, FlagExport included.
/// </summary>
internal static partial class SnippetPackages
{
    /// <summary>
    /// The packages a user could add, as the test project references them (its csproj lists the same): the repository's
    /// own and the third-party ones the documentation uses. Everything else the test host loads (xunit, Roslyn) is not
    /// offered to the snippets.
    /// </summary>
    public static readonly IReadOnlyList<string> UserPackages =
    [
        "FlagExport",
        "FlagExport.S3",
        "FlagExport.AzureBlob",
        "FlagExport.FeatureManagement",
        "FlagExport.OpenTelemetry",
        "Microsoft.FeatureManagement",
        "OpenTelemetry.Extensions.Hosting",
        "OpenTelemetry.Exporter.OpenTelemetryProtocol",
    ];

    private static readonly string[] ShellLanguages = ["sh", "bash", "shell"];

    /// <summary>The packages that <paramref name="snippet"/> of <paramref name="file"/> names, as written.</summary>
    public static SortedSet<string> NamedBy(MarkdownFile file, FencedBlock snippet)
    {
        var names = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (FencedBlock above in file.BlocksAbove(snippet))
        {
            if (ShellLanguages.Contains(above.Language))
            {
                names.UnionWith(AddPackage().Matches(above.Body).Select(m => m.Groups["name"].Value));
            }
            else if (above.Language == "xml")
            {
                names.UnionWith(PackageReference().Matches(above.Body).Select(m => m.Groups["name"].Value));
            }
        }

        foreach (string line in snippet.Body.Split('\n').Select(l => l.Trim()).TakeWhile(l => l.Length == 0 || l.StartsWith("//", StringComparison.Ordinal)))
        {
            names.UnionWith(AddPackage().Matches(line).Select(m => m.Groups["name"].Value));
        }

        return names;
    }

    // dotnet add [PROJECT] package NAME
    [GeneratedRegex(@"\bdotnet\s+add\s+(?:\S+\s+)?package\s+(?<name>[A-Za-z0-9_.\-]+)")]
    private static partial Regex AddPackage();

    [GeneratedRegex(@"<PackageReference\s+Include\s*=\s*""(?<name>[^""]+)""")]
    private static partial Regex PackageReference();
}

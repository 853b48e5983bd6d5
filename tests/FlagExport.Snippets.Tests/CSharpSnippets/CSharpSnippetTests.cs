using FlagExport.Testing.Markdown;

namespace FlagExport.Snippets.Tests.CSharpSnippets;

/// <summary>
/// Every C# block of README.md and docs/ is a program that compiles as shown, against the packages it names above it or
/// at its top. A block that could not be compiled has no place in the documentation: there is no marker to exempt one.
/// </summary>
public sealed class CSharpSnippetTests
{
    /// <summary>Each C# block, by <c>file:line</c>.</summary>
    public static TheoryData<string> Snippets() =>
        [.. Documentation().SelectMany(file => file.Blocks).Where(SnippetCheck.IsCSharp).Select(block => block.Location)];

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_Compiles_AndNamesThePackagesItUses(string snippet)
    {
        (MarkdownFile file, FencedBlock block) = Find(snippet);

        string? problem = SnippetCheck.Problem(file, block);

        Assert.True(problem is null, problem);
    }

    private static IReadOnlyList<MarkdownFile> Documentation() => MarkdownFile.Documentation(Repository.Root);

    private static (MarkdownFile File, FencedBlock Block) Find(string location)
    {
        foreach (MarkdownFile file in Documentation())
        {
            if (file.Blocks.FirstOrDefault(b => SnippetCheck.IsCSharp(b) && b.Location == location) is { } block)
            {
                return (file, block);
            }
        }

        throw new InvalidOperationException($"No C# block at {location} any more; run the tests again to list the current ones.");
    }
}

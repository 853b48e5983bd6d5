using FlagExport.Testing.Markdown;

namespace FlagExport.Snippets.Tests.Markdown;

public sealed class MarkdownFileTests
{
    [Fact]
    public void Blocks_HaveTheirLine_Info_Section_AndTheirText_WithoutTheFencesIndentation()
    {
        MarkdownFile file = MarkdownFile.Parse("docs/x.md", """
            # Title
            text
            ```sh
            dotnet add package FlagExport
            ```
            ## Next
            1. a list item:
               ```yaml relay-proxy
               exporter:
                 kind: webhook
               ```
            ````markdown
            ```csharp
            not a block of its own
            ```
            ````
            """);

        Assert.Collection(
            file.Blocks,
            b => Assert.Equal(("docs/x.md:3", "sh", 1, "dotnet add package FlagExport\n"), (b.Location, b.Language, b.Section, b.Body)),
            b =>
            {
                Assert.Equal(("docs/x.md:8", "yaml", 2, "exporter:\n  kind: webhook\n"), (b.Location, b.Language, b.Section, b.Body));
                Assert.Equal(["relay-proxy"], b.Markers);
                Assert.Equal(9, b.FileLine(0));
            },
            b => Assert.Equal(("docs/x.md:12", "markdown", "```csharp\nnot a block of its own\n```\n"), (b.Location, b.Language, b.Body)));
    }

    [Fact]
    public void BlocksAbove_AreTheEarlierOnesUnderTheSameHeading_AndBlockAfter_TheNextOne()
    {
        MarkdownFile file = MarkdownFile.Parse("README.md", """
            ## One
            ```sh
            one
            ```
            ## Two
            ```sh
            two
            ```
            ```csharp
            three
            ```
            ```
            output
            ```
            """);
        FencedBlock csharp = file.Blocks[2];

        Assert.Equal(["two\n"], file.BlocksAbove(csharp).Select(b => b.Body));
        Assert.Equal("output\n", file.BlockAfter(csharp)?.Body);
        Assert.Null(file.BlockAfter(file.Blocks[3]));
    }

    [Fact]
    public void Documentation_IsTheReadme_ThenEveryMarkdownFileUnderDocs()
    {
        IReadOnlyList<MarkdownFile> files = MarkdownFile.Documentation(Repository.Root);

        Assert.Equal("README.md", files[0].Path);
        Assert.Contains("docs/architecture.md", files.Select(f => f.Path));
        Assert.All(files.Skip(1), f => Assert.StartsWith("docs/", f.Path, StringComparison.Ordinal));
    }
}

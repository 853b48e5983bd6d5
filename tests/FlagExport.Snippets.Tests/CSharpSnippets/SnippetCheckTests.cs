using FlagExport.Testing.Markdown;

namespace FlagExport.Snippets.Tests.CSharpSnippets;

/// <summary>The check itself, on Markdown written here: what passes, and what each failure says.</summary>
public sealed class SnippetCheckTests
{
    private const string S3Program = """
        using FlagExport;
        using FlagExport.S3;

        await using var pipeline = new DataExporter(new S3Exporter(new S3ExporterOptions { Bucket = "b" }), new DataExporterOptions());
        ```
        """;

    [Fact]
    public void AProgram_NamingItsPackagesInAShellBlockAbove_Passes()
    {
        MarkdownFile file = MarkdownFile.Parse("docs/x.md", """
            ## S3
            ```sh
            dotnet add package FlagExport
            dotnet add package FlagExport.S3   # only for S3
            ```
            ```csharp
            """ + "\n" + S3Program);

        Assert.Null(SnippetCheck.Problem(file, file.Blocks[1]));
    }

    [Fact]
    public void PackagesNamedInAPackageReference_OrInACommentAtTheTop_Count()
    {
        MarkdownFile file = MarkdownFile.Parse("docs/x.md", """
            ## S3
            ```xml
            <PackageReference Include="FlagExport.S3" Version="0.1.0" />
            ```
            ```csharp
            """ + "\n" + S3Program + "\n" + """
            ## Again
            ```csharp
            // dotnet add package FlagExport.S3
            """ + "\n" + S3Program);

        Assert.Equal(["FlagExport.S3"], SnippetPackages.NamedBy(file, file.Blocks[1]));
        Assert.Null(SnippetCheck.Problem(file, file.Blocks[1]));
        Assert.Null(SnippetCheck.Problem(file, file.Blocks[2]));
    }

    [Fact]
    public void APackageNamedUnderAnotherHeading_DoesNotCount_AndTheFailureNamesTheAssembliesAndThePackage()
    {
        MarkdownFile file = MarkdownFile.Parse("README.md", """
            ## Referencing
            ```sh
            dotnet add package FlagExport
            ```
            ## S3
            ```csharp
            """ + "\n" + S3Program);

        string? problem = SnippetCheck.Problem(file, file.Blocks[1]);

        Assert.NotNull(problem);
        Assert.StartsWith("README.md:6: ", problem, StringComparison.Ordinal);
        Assert.Contains("which come with FlagExport, not named.", problem, StringComparison.Ordinal);
        Assert.Contains("AWSSDK.S3, FlagExport.S3, which come with FlagExport.S3, not named.", problem, StringComparison.Ordinal);
        Assert.Contains("Packages it names: none.", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ACompileError_IsReportedAtItsLineInTheMarkdownFile()
    {
        MarkdownFile file = MarkdownFile.Parse("docs/x.md", """
            # Library
            ```csharp
            // dotnet add package FlagExport

            builder.Services.AddFlagExport();
            ```
            """);

        string? problem = SnippetCheck.Problem(file, file.Blocks[0]);

        Assert.Equal(
            "docs/x.md:2: the snippet does not compile as a console program:" + Environment.NewLine +
            "docs/x.md:5: error CS0103: The name 'builder' does not exist in the current context",
            problem);
    }

    [Fact]
    public void ABlockMarkedAsAFragment_IsRefused()
    {
        MarkdownFile file = MarkdownFile.Parse("docs/x.md", """
            ```csharp fragment
            int x = 1;
            ```
            """);

        Assert.Equal(
            "docs/x.md:1: '```csharp fragment' marks a block that is not a complete program; make it one (it is compiled as top-level statements) or remove it.",
            SnippetCheck.Problem(file, file.Blocks[0]));
    }

    [Fact]
    public void FrameworkAssemblies_NeedNoPackage_AndXunitIsNotOffered()
    {
        MarkdownFile file = MarkdownFile.Parse("docs/x.md", """
            ```csharp
            using Microsoft.Extensions.Hosting;

            HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
            Console.WriteLine(builder.Environment.EnvironmentName);
            ```
            ```csharp
            Xunit.Assert.True(true);
            ```
            """);

        Assert.Null(SnippetCheck.Problem(file, file.Blocks[0]));
        Assert.Contains("error CS0103: The name 'Xunit' does not exist", SnippetCheck.Problem(file, file.Blocks[1]), StringComparison.Ordinal);
    }
}

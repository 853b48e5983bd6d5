using FlagExport.Testing.Markdown;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FlagExport.Snippets.Tests.CSharpSnippets;

/// <summary>
/// What makes a C# block of the documentation acceptable: a complete program (no marker after the language) that
/// compiles as shown, and that names every package whose assemblies it uses (<see cref="SnippetPackages"/>).
/// </summary>
internal static class SnippetCheck
{
    private static readonly string[] CSharpLanguages = ["csharp", "cs", "c#"];

    /// <summary>Whether <paramref name="block"/> is a C# block, whatever follows the language.</summary>
    public static bool IsCSharp(FencedBlock block) => CSharpLanguages.Contains(block.Language);

    /// <summary>What is wrong with <paramref name="block"/> of <paramref name="file"/>, or null; each line names the block's file and line.</summary>
    public static string? Problem(MarkdownFile file, FencedBlock block)
    {
        if (block.Markers.Count != 0)
        {
            return $"{block.Location}: '```{block.Info}' marks a block that is not a complete program; make it one (it is compiled as top-level statements) or remove it.";
        }

        CSharpCompilation compilation = SnippetCompiler.Compile(block);
        IReadOnlyList<string> errors = SnippetCompiler.Errors(block, compilation);
        if (errors.Count != 0)
        {
            return $"{block.Location}: the snippet does not compile as a console program:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}";
        }

        SortedSet<string> named = SnippetPackages.NamedBy(file, block);
        string[] unnamed = UnnamedAssemblies(compilation, named);
        return unnamed.Length == 0
            ? null
            : $"{block.Location}: {string.Join(Environment.NewLine, unnamed)}{Environment.NewLine}{NamingRule(named)}";
    }

    // The used assemblies that neither the shared frameworks nor a named package (or what it depends on) provide, one
    // line per package that would bring them: "uses AWSSDK.Core, AWSSDK.S3, FlagExport.S3, which come with FlagExport.S3".
    private static string[] UnnamedAssemblies(CSharpCompilation compilation, SortedSet<string> named)
    {
        SnippetReferences references = SnippetReferences.Instance;
        HashSet<string> provided = references.Packages.AssembliesOf(named);
        return
        [
            .. compilation.GetUsedAssemblyReferences()
                .OfType<PortableExecutableReference>()
                .Select(reference => Path.GetFileNameWithoutExtension(reference.FilePath!))
                .Where(assembly => !references.FrameworkAssemblies.Contains(assembly) && !provided.Contains(assembly))
                .GroupBy(Providers)
                .OrderBy(group => group.Key, StringComparer.Ordinal)
                .Select(group => $"uses {string.Join(", ", group.Order(StringComparer.Ordinal))}, which come with {group.Key}, not named."),
        ];
    }

    // The user packages that bring the assembly with the fewest others: FlagExport for FlagExport.dll, not every package
    // that depends on it.
    private static string Providers(string assembly)
    {
        PackageGraph packages = SnippetReferences.Instance.Packages;
        string[] providers = [.. SnippetPackages.UserPackages.Where(package => packages.AssembliesOf([package]).Contains(assembly))];
        string[] nearest = [.. providers.Where(p => !providers.Any(q => q != p && packages.Closure([p]).Contains(q)))];
        return nearest.Length == 0 ? "no package the tests know" : string.Join(" or ", nearest);
    }

    private static string NamingRule(SortedSet<string> named) =>
        $"Packages it names: {(named.Count == 0 ? "none" : string.Join(", ", named))}. Name each in a 'dotnet add package NAME' line of a sh/bash/shell block above it " +
        "under the same heading, a <PackageReference Include=\"NAME\" /> of an xml block there, or a '// dotnet add package NAME' comment at its top.";
}

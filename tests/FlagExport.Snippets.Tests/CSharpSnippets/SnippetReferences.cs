using Microsoft.CodeAnalysis;

namespace FlagExport.Snippets.Tests.CSharpSnippets;

/// <summary>
/// What every snippet is compiled against, built once: the assemblies of the runtime's and ASP.NET Core's shared
/// frameworks, and those of <see cref="SnippetPackages.UserPackages"/> with their dependencies, as the test host resolved
/// them (its trusted platform assemblies, so that a package newer than the framework is the package's version).
/// </summary>
internal sealed class SnippetReferences
{
    private static readonly Lazy<SnippetReferences> Shared = new(Create);

    private SnippetReferences(IReadOnlyList<MetadataReference> references, HashSet<string> frameworkAssemblies, PackageGraph packages)
    {
        References = references;
        FrameworkAssemblies = frameworkAssemblies;
        Packages = packages;
    }

    /// <summary>The one instance, created on first use.</summary>
    public static SnippetReferences Instance => Shared.Value;

    /// <summary>The references of every snippet's compilation.</summary>
    public IReadOnlyList<MetadataReference> References { get; }

    /// <summary>
    /// Names of the assemblies of the shared frameworks, which a snippet uses without naming a package. ASP.NET Core's
    /// are counted too, as an ASP.NET Core project has them; so a console snippet's <c>Host.CreateApplicationBuilder</c>
    /// passes without naming Microsoft.Extensions.Hosting.
    /// </summary>
    public HashSet<string> FrameworkAssemblies { get; }

    /// <summary>The test's package graph, to tell which packages bring an assembly.</summary>
    public PackageGraph Packages { get; }

    private static SnippetReferences Create()
    {
        string[] trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        // The host may list an assembly twice (the same file); the first entry is the one it loads.
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in trusted)
        {
            _ = byName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        }


        // The framework folders are those of CoreLib and of ASP.NET Core's main assembly; every DLL there is the framework's.
        var frameworkAssemblies = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string anchor in new[] { "System.Private.CoreLib", "Microsoft.AspNetCore" })
        {
            string folder = Path.GetDirectoryName(byName[anchor])!;
            frameworkAssemblies.UnionWith(Directory.EnumerateFiles(folder, "*.dll").Select(Path.GetFileNameWithoutExtension)!);
        }

        PackageGraph packages = PackageGraph.Load();
        HashSet<string> offered = packages.AssembliesOf(SnippetPackages.UserPackages);
        MetadataReference[] references =
        [
            .. byName
                .Where(entry => frameworkAssemblies.Contains(entry.Key) || offered.Contains(entry.Key))
                .OrderBy(entry => entry.Key, StringComparer.Ordinal)
                .Select(entry => MetadataReference.CreateFromFile(entry.Value)),
        ];
        return new SnippetReferences(references, frameworkAssemblies, packages);
    }
}

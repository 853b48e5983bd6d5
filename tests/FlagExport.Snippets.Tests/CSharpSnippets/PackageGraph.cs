using System.Text.Json;

namespace FlagExport.Snippets.Tests.CSharpSnippets;

/// <summary>
/// The packages and projects of this test's <c>.deps.json</c>: which assemblies each one brings, and what it depends on.
/// The repository's projects are there as <c>project</c> libraries, under the names their packages have.
/// </summary>
internal sealed class PackageGraph
{
    private readonly Dictionary<string, Library> _libraries;

    private PackageGraph(Dictionary<string, Library> libraries) => _libraries = libraries;

    /// <summary>Reads the <c>.deps.json</c> beside the test assembly.</summary>
    public static PackageGraph Load()
    {
        string deps = Path.Combine(AppContext.BaseDirectory, typeof(PackageGraph).Assembly.GetName().Name + ".deps.json");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(deps));
        JsonElement root = document.RootElement;
        string target = root.GetProperty("runtimeTarget").GetProperty("name").GetString()!;
        var libraries = new Dictionary<string, Library>(StringComparer.OrdinalIgnoreCase);
        foreach (JsonProperty entry in root.GetProperty("targets").GetProperty(target).EnumerateObject())
        {
            string name = entry.Name[..entry.Name.IndexOf('/', StringComparison.Ordinal)];
            string[] dependencies = entry.Value.TryGetProperty("dependencies", out JsonElement d)
                ? [.. d.EnumerateObject().Select(p => p.Name)]
                : [];
            string[] assemblies = entry.Value.TryGetProperty("runtime", out JsonElement r)
                ? [.. r.EnumerateObject().Select(p => Path.GetFileNameWithoutExtension(p.Name))]
                : [];
            libraries[name] = new Library(dependencies, assemblies);
        }

        return new PackageGraph(libraries);
    }

    /// <summary>Whether the graph has a package or project named <paramref name="package"/> (case-insensitive, as NuGet).</summary>
    public bool Contains(string package) => _libraries.ContainsKey(package);

    /// <summary>The names of the assemblies that <paramref name="packages"/> and everything they depend on bring.</summary>
    public HashSet<string> AssembliesOf(IEnumerable<string> packages)
    {
        var assemblies = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string package in Closure(packages))
        {
            assemblies.UnionWith(_libraries[package].Assemblies);
        }

        return assemblies;
    }

    /// <summary><paramref name="packages"/> and everything they depend on, directly or not, that the graph has.</summary>
    public HashSet<string> Closure(IEnumerable<string> packages)
    {
        var closure = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>(packages);
        while (pending.TryPop(out string? package))
        {
            if (_libraries.TryGetValue(package, out Library? library) && closure.Add(package))
            {
                foreach (string dependency in library.Dependencies)
                {
                    pending.Push(dependency);
                }
            }
        }

        return closure;
    }

    private sealed record Library(string[] Dependencies, string[] Assemblies);
}

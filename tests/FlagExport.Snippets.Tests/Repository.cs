namespace FlagExport.Snippets.Tests;

/// <summary>The repository these tests were built from, found from the test assembly's location.</summary>
internal static class Repository
{
    /// <summary>The folder holding <c>FlagExport.slnx</c>.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        DirectoryInfo? root = new(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "FlagExport.slnx")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException($"No FlagExport.slnx above {AppContext.BaseDirectory}.");
    }
}

namespace FlagExport.Collector.Tests.Support;

/// <summary>Folders of the repository these tests were built from, found from the test assembly's location.</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding <c>FlagExport.slnx</c>.</summary>
    public static string Root
    {
        get
        {
            DirectoryInfo? root = new(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "FlagExport.slnx")))
            {
                root = root.Parent;
            }

            return root?.FullName ?? throw new InvalidOperationException($"No FlagExport.slnx above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>A file checked in under this test project, by its path relative to the project folder.</summary>
    public static string TestFile(params string[] relative) =>
        Path.Combine([Root, "tests", "FlagExport.Collector.Tests", .. relative]);
}

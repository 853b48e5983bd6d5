namespace FlagExport.S3.Tests.Support;

/// <summary>Files of the repository the tests were built from.</summary>
internal static class RepositoryFiles
{
    /// <summary>The folder holding <c>FlagExport.slnx</c>, above the test binaries.</summary>
    public static string Root()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "FlagExport.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"FlagExport.slnx not found above {AppContext.BaseDirectory}");
    }
}

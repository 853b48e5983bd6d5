namespace FlagExport.FeatureManagement.Tests.Support;

/// <summary>A folder under the system temp path, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flagexport-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Every line of every file written, files in name order.</summary>
    public string[] Lines() =>
        [.. Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines)];

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

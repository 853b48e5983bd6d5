namespace FlagExport.OpenTelemetry.Tests.Support;

/// <summary>A folder under the system temp path, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flagexport-otel-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The files written so far (not in sub-folders), by name.</summary>
    public string[] Files() => [.. Directory.EnumerateFiles(Path).Order(StringComparer.Ordinal)];

    /// <summary>Every line of every file written so far, in file-name order.</summary>
    public string[] Lines() => [.. Files().SelectMany(File.ReadAllLines)];

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

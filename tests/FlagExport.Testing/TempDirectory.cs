namespace FlagExport.Testing;

/// <summary>A fresh folder under the system temp path, deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flagexport-tests", Guid.NewGuid().ToString("N"));

    /// <summary><paramref name="name"/> in the folder.</summary>
    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>The files directly in the folder (not in sub-folders), as full paths in name order.</summary>
    public string[] Files() => [.. Directory.EnumerateFiles(Path).Order(StringComparer.Ordinal)];

    /// <summary>Every file below the folder, as paths relative to it, in ordinal order.</summary>
    public string[] FileNames() =>
        [.. Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories).Select(f => System.IO.Path.GetRelativePath(Path, f)).Order(StringComparer.Ordinal)];

    /// <summary>Every line of the files directly in the folder, files in name order (sub-folders, such as a buffer, are not read).</summary>
    public string[] Lines() => [.. Files().SelectMany(File.ReadAllLines)];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

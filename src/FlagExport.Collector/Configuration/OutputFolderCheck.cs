namespace FlagExport.Collector.Configuration;

/// <summary>
/// Whether a folder the collector writes to (a file exporter's <c>outputDir</c>, an exporter's
/// <c>deadLetterDirectory</c>) can be used: created if missing, then a temporary file written and deleted in it. Run at
/// start-up and by <c>validate --check-connectivity</c>, so that a folder that cannot be written (<c>/proc/x</c>, a
/// read-only mount, missing permissions) stops the collector before it accepts events it could neither write nor set
/// aside.
/// </summary>
internal static class OutputFolderCheck
{
    /// <summary>Checks <paramref name="folder"/>; returns why it cannot be used, naming the key, the exporter and the path, or null.</summary>
    /// <param name="exporter">Where the exporter was configured, such as <c>exporters[0]</c>.</param>
    /// <param name="folder">The folder as configured; relative paths are under the working folder.</param>
    /// <param name="key">The key that names the folder, such as <c>outputDir</c>.</param>
    public static string? Problem(string exporter, string folder, string key = "outputDir")
    {
        string fullPath = Path.GetFullPath(folder);
        try
        {
            _ = Directory.CreateDirectory(fullPath);
            string probe = Path.Combine(fullPath, $".flagexport-write-check-{Guid.NewGuid():N}.tmp");
            using (var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                stream.WriteByte(0);
            }

            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return $"{exporter}.{key}: the folder '{fullPath}' cannot be created or written: {exception.Message}";
        }
    }
}

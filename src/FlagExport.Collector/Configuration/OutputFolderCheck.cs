namespace FlagExport.Collector.Configuration;

/// <summary>
/// Whether a file exporter's <c>outputDir</c> can be used: created if missing, then a temporary file written and
/// deleted in it. Run at start-up and by <c>validate --check-connectivity</c>, so that a folder that cannot be written
/// (<c>/proc/x</c>, a read-only mount, missing permissions) stops the collector before it accepts events it could only
/// set aside.
/// </summary>
internal static class OutputFolderCheck
{
    /// <summary>Checks <paramref name="outputDir"/>; returns why it cannot be used, naming <c>outputDir</c>, the exporter and the path, or null.</summary>
    /// <param name="exporter">Where the exporter was configured, such as <c>exporters[0]</c>.</param>
    /// <param name="outputDir">The folder as configured; relative paths are under the working folder.</param>
    public static string? Problem(string exporter, string outputDir)
    {
        string fullPath = Path.GetFullPath(outputDir);
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
            return $"{exporter}.outputDir: the folder '{fullPath}' cannot be created or written: {exception.Message}";
        }
    }
}

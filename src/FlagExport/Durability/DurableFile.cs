namespace FlagExport.Durability;

/// <summary>Small files replaced whole and durably: after a crash a reader finds the old content or the new, never a mix.</summary>
internal static class DurableFile
{
    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/>: temporary file, fsync, rename over, fsync of the folder.</summary>
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        DirectorySync.Flush(directory);
    }
}

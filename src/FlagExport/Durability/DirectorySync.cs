using System.Runtime.InteropServices;

namespace FlagExport.Durability;

/// <summary>Makes the creation, rename or removal of files in a directory durable.</summary>
/// <remarks>
/// A new file's data can be fsynced and still vanish in a crash if its directory entry is not: POSIX needs an fsync of the
/// directory itself. .NET cannot open a directory as a file handle (File.OpenHandle refuses directories), so this calls
/// <c>open</c> and <c>fsync</c> directly. On Windows NTFS journals directory entries with the file's metadata, and there is
/// no portable way to flush a directory handle, so this does nothing there.
/// </remarks>
internal static partial class DirectorySync
{
    private const int O_RDONLY = 0;
    private const int EINTR = 4;
    private const int EINVAL = 22; // Linux and macOS: the file system cannot fsync directories (some FUSE and network ones)

    /// <summary>fsyncs <paramref name="directory"/>; throws <see cref="IOException"/> when the system reports a failure.</summary>
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = Open(directory, O_RDONLY);
        if (fd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            throw new IOException($"Could not open directory '{directory}' to fsync it: {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).");
        }

        try
        {
            while (Fsync(fd) != 0)
            {
                int error = Marshal.GetLastPInvokeError();
                if (error == EINTR)
                {
                    continue;
                }

                if (error == EINVAL)
                {
                    return;
                }

                throw new IOException($"Could not fsync directory '{directory}': {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

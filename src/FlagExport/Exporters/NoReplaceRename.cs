using System.Runtime.InteropServices;

namespace FlagExport;

/// <summary>
/// Moves a file to a new name only if that name is free, atomically: two writers can never both take one name.
/// </summary>
/// <remarks>
/// Written by hand because <see cref="File.Move(string, string, bool)"/> without overwrite checks that the target is
/// missing and then renames, on Unix: a concurrent writer can slip in between, and one file silently replaces the
/// other. POSIX <c>link(2)</c> fails with EEXIST when the name is taken,
/// so link-then-unlink is the atomic no-replace move. On Windows, MoveFileEx without REPLACE_EXISTING is already atomic.
/// </remarks>
internal static partial class NoReplaceRename
{
    private const int EPERM = 1;   // Linux and macOS: the file system does not allow hard links
    private const int EEXIST = 17; // Linux and macOS
    private const int ENOSYS = 38; // Linux
    private const int ENOTSUP = 95; // Linux (EOPNOTSUPP)

    /// <summary>Moves <paramref name="source"/> to <paramref name="target"/>; returns false when the target exists.</summary>
    public static bool TryMove(string source, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            return MoveUnlessTaken(source, target);
        }

        if (Link(source, target) == 0)
        {
            try
            {
                File.Delete(source);
            }
            catch (IOException)
            {
                // The batch is written under its final name: a stray temporary file must not fail the export and cause a duplicate.
            }
            catch (UnauthorizedAccessException)
            {
            }

            return true;
        }

        int error = Marshal.GetLastPInvokeError();
        if (error == EEXIST)
        {
            return false;
        }

        if (error is EPERM or ENOTSUP or ENOSYS)
        {
            // File systems without hard links (FAT, some SMB and FUSE mounts): the best left is check-then-rename, which
            // is atomic for readers but can let two writers racing on one name in the same instant overwrite each other.
            return MoveUnlessTaken(source, target);
        }

        throw new IOException($"Could not link '{source}' to '{target}': {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).");
    }

    /// <summary><see cref="File.Move(string, string, bool)"/> without overwriting; false when the target exists.</summary>
    private static bool MoveUnlessTaken(string source, string target)
    {
        try
        {
            File.Move(source, target, overwrite: false);
            return true;
        }
        catch (IOException) when (Path.Exists(target))
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existingPath, string newPath);
}

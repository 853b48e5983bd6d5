using FlagExport.Durability;

namespace FlagExport;

/// <summary>
/// Writes files that appear whole, already on disk, under a name no other file has: the folder write of the file
/// exporter, for exporters to folder-like stores.
/// </summary>
/// <remarks>
/// The bytes go to a hidden temporary file in the same folder (a dot name, so readers globbing <c>*.json</c> never see
/// a partial file), are flushed to disk, and the file is then given the first free name by an atomic no-replace move
/// (a hard link on Unix, <c>MoveFileEx</c> without replace on Windows): two writers can never both take a name, and a
/// file already there is never replaced. On file systems without hard links the move falls back to check-then-rename,
/// which readers still see as atomic but where two writers racing for one name in the same instant can replace each
/// other's file. Once named, the folder is fsynced, so the name survives a crash as the bytes do. A crash while writing
/// leaves the hidden temporary file (<c>.{guid}.tmp</c>) behind; nothing here removes it later.
/// </remarks>
public static class NoReplaceFile
{
    /// <summary>How many suffixes (<c>-1</c> … <c>-N</c>) are tried before giving up.</summary>
    internal const int MaxSuffix = 10_000;

    /// <summary>
    /// Writes <paramref name="content"/> to a new file in <paramref name="directory"/> called <paramref name="fileName"/>
    /// with the first free suffix from <paramref name="firstSuffix"/> on (0 is the name as it is, then
    /// <c>name-1.ext</c>, <c>name-2.ext</c>… up to <see cref="ExportFileEncoder.MaxSuffix"/>), and returns the path
    /// written and the suffix taken.
    /// </summary>
    /// <param name="directory">The folder; it must exist.</param>
    /// <param name="fileName">The name wanted, without a folder.</param>
    /// <param name="firstSuffix">The first suffix to try: the later parts of a batch start after the previous part's, so
    /// that their names sort in the parts' order.</param>
    /// <param name="content">The bytes.</param>
    /// <param name="beforeVisible">
    /// Null, or called with each free name (and its suffix) before the file appears under it; when it throws, nothing
    /// appears. An exporter records the name there, so that a retry after a crash finds the file instead of writing it
    /// again. A name taken in between is skipped and the next one offered.
    /// </param>
    /// <param name="cancellationToken">Cancels the write: when it ends in <see cref="OperationCanceledException"/>, nothing appeared.</param>
    /// <exception cref="IOException">No free name up to the last suffix, or the folder cannot be written.</exception>
    public static async Task<(string Path, int Suffix)> WriteNewAsync(
        string directory, string fileName, int firstSuffix, ReadOnlyMemory<byte> content,
        Func<string, int, CancellationToken, ValueTask>? beforeVisible, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        if (Path.GetFileName(fileName) != fileName || fileName is "." or "..")
        {
            throw new ArgumentException($"The file name must not contain a folder; got '{fileName}'.", nameof(fileName));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(firstSuffix);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstSuffix, MaxSuffix);

        // The temporary file starts with a dot so that readers globbing *.json never see a partial file, and is short
        // so that any final name that fits the file system also fits while it is written.
        string temporary = Path.Combine(directory, $".{Guid.NewGuid():N}.tmp");
        bool moved = false;
        try
        {
            var fileOptions = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Options = FileOptions.Asynchronous,
                PreallocationSize = content.Length,
            };
            await using (var stream = new FileStream(temporary, fileOptions))
            {
                await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true); // durable before it becomes visible under its final name
            }

            for (int suffix = firstSuffix; suffix <= MaxSuffix; suffix++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string name = WithSuffix(fileName, suffix);
                string target = Path.Combine(directory, name);
                if (Path.Exists(target))
                {
                    continue; // taken: not worth recording
                }

                if (beforeVisible is not null)
                {
                    await beforeVisible(name, suffix, cancellationToken).ConfigureAwait(false);
                }

                if (NoReplaceRename.TryMove(temporary, target))
                {
                    moved = true;

                    // The name itself must survive a crash too: POSIX makes a new directory entry durable only with an
                    // fsync of the folder. Should that fail, the caller's retry finds the file by the name it recorded.
                    DirectorySync.Flush(directory);
                    return (target, suffix);
                }
            }

            throw new NoFreeNameException($"Could not find a free name for '{fileName}' in '{directory}' after {MaxSuffix} attempts.");
        }
        finally
        {
            // Once moved, the batch is under its final name and TryMove has removed the temporary name, ignoring a failure
            // there: deleting again here could throw and fail an export that was written, which a retry would duplicate.
            if (!moved)
            {
                DeleteQuietly(temporary);
            }
        }
    }

    // A temporary file that cannot be deleted (a scanner holding it on Windows) must not hide the error that ended the
    // write; it is a hidden name, and the next write does not depend on it.
    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary><c>name.ext</c> → <c>name-N.ext</c>; suffix 0 leaves the name as it is.</summary>
    internal static string WithSuffix(string fileName, int suffix)
    {
        if (suffix == 0)
        {
            return fileName;
        }

        string extension = Path.GetExtension(fileName);
        return $"{fileName[..^extension.Length]}-{suffix}{extension}";
    }
}

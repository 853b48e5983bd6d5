namespace FlagExport;

/// <summary>Creates files that appear whole, under a name no other file has.</summary>
internal static class AtomicFile
{
    /// <summary>How many suffixes (<c>-1</c> … <c>-N</c>) are tried before giving up.</summary>
    internal const int MaxSuffix = 10_000;

    /// <summary>
    /// Writes <paramref name="content"/> to a new file called <paramref name="fileName"/> in <paramref name="directory"/>,
    /// or to <c>name-1.ext</c>, <c>name-2.ext</c>… when that name is taken, and returns the path written.
    /// </summary>
    /// <param name="directory">The folder.</param>
    /// <param name="fileName">The name wanted.</param>
    /// <param name="content">The bytes.</param>
    /// <param name="beforeVisible">
    /// Called with each name chosen, before the file appears under it; when it throws, nothing appears. The export
    /// records the name there, so that a retry after a crash finds the file instead of writing it again.
    /// </param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static async Task<string> WriteNewAsync(
        string directory, string fileName, ReadOnlyMemory<byte> content, Func<string, CancellationToken, ValueTask>? beforeVisible, CancellationToken cancellationToken) =>
        (await WriteNewAsync(directory, fileName, firstSuffix: 0, content, beforeVisible, cancellationToken).ConfigureAwait(false)).Path;

    /// <summary>
    /// As <see cref="WriteNewAsync(string, string, ReadOnlyMemory{byte}, Func{string, CancellationToken, ValueTask}?, CancellationToken)"/>,
    /// trying suffixes from <paramref name="firstSuffix"/> on, and returning the suffix taken too: the later parts of a
    /// batch start after the previous part's, so that their names sort in the parts' order.
    /// </summary>
    public static async Task<(string Path, int Suffix)> WriteNewAsync(
        string directory, string fileName, int firstSuffix, ReadOnlyMemory<byte> content,
        Func<string, CancellationToken, ValueTask>? beforeVisible, CancellationToken cancellationToken)
    {
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
                string name = WithSuffix(fileName, suffix);
                string target = Path.Combine(directory, name);
                if (File.Exists(target))
                {
                    continue; // taken: not worth recording
                }

                if (beforeVisible is not null)
                {
                    await beforeVisible(name, cancellationToken).ConfigureAwait(false);
                }

                if (NoReplaceRename.TryMove(temporary, target))
                {
                    moved = true;
                    return (target, suffix);
                }
            }

            throw new IOException($"Could not find a free name for '{fileName}' in '{directory}' after {MaxSuffix} attempts.");
        }
        finally
        {
            // Once moved, the batch is under its final name and TryMove has removed the temporary name, ignoring a failure
            // there: deleting again here could throw and fail an export that was written, which a retry would duplicate.
            if (!moved)
            {
                File.Delete(temporary);
            }
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

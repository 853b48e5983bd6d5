namespace FlagExport.Durability;

/// <summary>
/// The buffer folder's lock file is held by another log, in this process or another: two writers would corrupt one log,
/// so the second to open a folder gets this instead of the log.
/// </summary>
internal sealed class DurableBufferLockedException : IOException
{
    /// <summary>Creates the exception for <paramref name="directory"/>.</summary>
    /// <param name="directory">The folder whose lock is held, as the caller names it to the user.</param>
    /// <param name="innerException">The error of the lock attempt.</param>
    public DurableBufferLockedException(string directory, Exception innerException)
        : base($"another process holds the buffer in '{directory}' (its lock file is open); give each process its own buffer folder.", innerException)
    {
        Directory = directory;
    }

    /// <summary>The folder whose lock is held.</summary>
    public string Directory { get; }
}

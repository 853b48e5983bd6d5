namespace FlagExport.S3;

/// <summary>
/// The object names this process has given out, so that two flushes in the same second, or two exporters writing the
/// same name to the same bucket, pick different names without asking S3. S3's conditional write (or the existence check
/// before a multipart upload) still guards against every other writer and against names forgotten here.
/// </summary>
/// <remarks>Thread-safe. Bounded: past <see cref="MaxRemembered"/> names it forgets the oldest one first, so the names of
/// the current second, the ones a new flush can clash with, are the last to go.</remarks>
internal sealed class KeyReservations
{
    /// <summary>How many names are remembered; beyond it the oldest is forgotten.</summary>
    public const int MaxRemembered = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _nextSuffix = new(StringComparer.Ordinal);
    private readonly Queue<string> _byAge = new(); // names in the order first given out

    /// <summary>The process-wide instance every exporter uses.</summary>
    public static KeyReservations Shared { get; } = new();

    /// <summary>
    /// Reserves a suffix for the name <paramref name="baseKey"/> in <paramref name="bucket"/>: 0 for a name not given out
    /// yet, else the next one; always greater than <paramref name="after"/>.
    /// </summary>
    public int Reserve(string bucket, string baseKey, int after = -1)
    {
        string name = string.Concat(bucket, "\n", baseKey); // a bucket name has no newline
        lock (_lock)
        {
            if (!_nextSuffix.ContainsKey(name))
            {
                if (_nextSuffix.Count >= MaxRemembered)
                {
                    _ = _nextSuffix.Remove(_byAge.Dequeue());
                }

                _byAge.Enqueue(name);
            }

            int suffix = Math.Max(_nextSuffix.GetValueOrDefault(name), after + 1);
            _nextSuffix[name] = suffix + 1;
            return suffix;
        }
    }
}

namespace FlagExport;

/// <summary>
/// The object names this process has given out, so that two flushes in the same second, or two exporters writing the
/// same name to the same place, pick different names without asking the store. The store's create-if-absent still
/// guards against every other writer and against names forgotten here.
/// </summary>
/// <remarks>Thread-safe. Bounded: past <see cref="MaxRemembered"/> names it forgets the oldest one first, so the names of
/// the current second, the ones a new flush can clash with, are the last to go.</remarks>
internal sealed class ObjectNameReservations
{
    /// <summary>How many names are remembered; beyond it the oldest is forgotten.</summary>
    internal const int MaxRemembered = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _nextSuffix = new(StringComparer.Ordinal);
    private readonly Queue<string> _byAge = new(); // names in the order first given out

    /// <summary>The process-wide instance every <see cref="ObjectStoreWriter"/> uses unless given another.</summary>
    public static ObjectNameReservations Shared { get; } = new();

    /// <summary>
    /// Reserves a suffix for the name <paramref name="name"/> in <paramref name="place"/>: 0 for a name not given out
    /// yet, else the next one; always greater than <paramref name="after"/>.
    /// </summary>
    /// <param name="place">Where the name lives (a bucket, a container's URL); it holds no newline.</param>
    /// <param name="name">The name without suffix.</param>
    /// <param name="after">The suffix must be greater than this one; -1 for any.</param>
    public int Reserve(string place, string name, int after = -1)
    {
        ArgumentNullException.ThrowIfNull(place);
        ArgumentNullException.ThrowIfNull(name);
        string key = string.Concat(place, "\n", name);
        lock (_lock)
        {
            if (!_nextSuffix.ContainsKey(key))
            {
                if (_nextSuffix.Count >= MaxRemembered)
                {
                    _ = _nextSuffix.Remove(_byAge.Dequeue());
                }

                _byAge.Enqueue(key);
            }

            int suffix = Math.Max(_nextSuffix.GetValueOrDefault(key), after + 1);
            _nextSuffix[key] = suffix + 1;
            return suffix;
        }
    }
}

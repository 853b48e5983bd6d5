namespace FlagExport.AzureBlob;

/// <summary>
/// The blob names this process has given out, so that two flushes in the same second, or two exporters writing the same
/// name to the same container, pick different names without asking the service. <c>If-None-Match: *</c> still guards
/// against every other writer and against names forgotten here.
/// </summary>
/// <remarks>Thread-safe. Bounded: past <see cref="MaxRemembered"/> names the oldest is forgotten first.</remarks>
internal sealed class BlobNameReservations
{
    /// <summary>How many names are remembered.</summary>
    public const int MaxRemembered = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _nextSuffix = new(StringComparer.Ordinal);
    private readonly Queue<string> _byAge = new();

    /// <summary>The process-wide instance every exporter uses.</summary>
    public static BlobNameReservations Shared { get; } = new();

    /// <summary>A suffix for <paramref name="baseName"/> in <paramref name="scope"/>: 0 for a new name, else the next; always above <paramref name="after"/>.</summary>
    public int Reserve(string scope, string baseName, int after = -1)
    {
        string name = string.Concat(scope, "\n", baseName); // neither an endpoint nor a container name holds a newline
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

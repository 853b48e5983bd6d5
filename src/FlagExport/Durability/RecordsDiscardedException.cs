namespace FlagExport.Durability;

/// <summary>
/// The group commit holding an append call's records failed: none of them is kept (not in memory, not on disk), so the
/// call can be refused and its records appended again without doubling any.
/// </summary>
internal sealed class RecordsDiscardedException(string directory, Exception? cause)
    : IOException($"The durable buffer in '{directory}' could not write the records to disk ({cause?.Message ?? "unknown error"}); none of them was kept.", cause);

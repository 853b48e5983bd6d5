namespace FlagExport.S3;

/// <summary>
/// A batch being written: its flush time and, per partition, the object chosen for it. Kept by <see cref="S3Exporter"/>
/// after a failure so that the pipeline's retry of the same events continues it: partitions already written are skipped,
/// the others reuse their names and write ids.
/// </summary>
internal sealed class PendingBatch(DateTimeOffset flushTime)
{
    private readonly Dictionary<string, PendingObject> _objects = new(StringComparer.Ordinal);
    private ExportableEvent[] _events = [];

    public DateTimeOffset FlushTime { get; } = flushTime;

    public PendingObject ObjectFor(string prefix)
    {
        if (!_objects.TryGetValue(prefix, out PendingObject? target))
        {
            target = new PendingObject();
            _objects.Add(prefix, target);
        }

        return target;
    }

    /// <summary>Keeps the events (not the caller's list, which the pipeline reuses) to recognise the retry.</summary>
    public void Remember(IReadOnlyList<ExportableEvent> events)
    {
        if (_events.Length != events.Count)
        {
            _events = [.. events];
        }
    }

    /// <summary><see langword="true"/> when <paramref name="events"/> holds the same event instances in the same order.</summary>
    public bool IsSameBatch(IReadOnlyList<ExportableEvent> events)
    {
        if (events.Count != _events.Length)
        {
            return false;
        }

        for (int i = 0; i < _events.Length; i++)
        {
            if (!ReferenceEquals(events[i], _events[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>One object of a batch: its name once chosen, its write id, and whether it is written.</summary>
internal sealed class PendingObject
{
    public string WriteId { get; } = S3ObjectWriter.NewWriteId();

    public string? FileName { get; set; }

    public int? Suffix { get; set; }

    public bool Written { get; set; }
}

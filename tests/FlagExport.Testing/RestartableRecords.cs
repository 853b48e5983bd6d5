namespace FlagExport.Testing;

/// <summary>
/// A batch's records as the durable buffer keeps them: each <see cref="ExportBatch.RecordAsync"/> persists a copy, which
/// <see cref="Restart"/> reads back as a restarted process would from its cursor. A persist can be made to fail.
/// </summary>
internal sealed class RestartableRecords
{
    private readonly string _id;
    private readonly int _count;
    private Dictionary<string, string> _persisted = new(StringComparer.Ordinal);
    private int _persistsUntilFailure;

    public RestartableRecords(string id, int count)
    {
        _id = id;
        _count = count;
        State = Create(new Dictionary<string, string>(StringComparer.Ordinal));
    }

    /// <summary>The state the next attempt uses: the one in memory, or after <see cref="Restart"/> the one read from disk.</summary>
    public BatchState State { get; private set; }

    /// <summary>How many record writes succeeded, over every attempt.</summary>
    public int Persists { get; private set; }

    /// <summary>Makes the <paramref name="n"/>-th record write from now on (1-based) throw; 0 for none.</summary>
    public void FailPersist(int n) => _persistsUntilFailure = n;

    /// <summary>A new process: the records are those the last successful write put on disk.</summary>
    public void Restart() => State = Create(new Dictionary<string, string>(_persisted, StringComparer.Ordinal));

    private BatchState Create(Dictionary<string, string> recorded) => new(_id, 0, _count, recorded) { Persist = PersistAsync };

    private ValueTask PersistAsync(BatchState state, CancellationToken cancellationToken)
    {
        if (_persistsUntilFailure > 0 && --_persistsUntilFailure == 0)
        {
            throw new IOException("injected: the cursor could not be written");
        }

        lock (state.Recorded)
        {
            _persisted = new Dictionary<string, string>(state.Recorded, StringComparer.Ordinal);
        }

        Persists++;
        return ValueTask.CompletedTask;
    }
}

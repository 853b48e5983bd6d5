namespace FlagExport.Tests.Exporters.ObjectStore;

/// <summary>
/// An <see cref="IObjectStore"/> in memory: a create on a taken name writes nothing and answers false, a missing object
/// has no write id. The next create can be made to throw before writing, or to write and then throw (a lost answer).
/// </summary>
internal sealed class InMemoryObjectStore : IObjectStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (byte[] Content, string? WriteId, string? ContentEncoding)> _objects = new(StringComparer.Ordinal);
    private Exception? _failNextCreate;
    private bool _commitBeforeFailing;

    /// <summary>Every call, as <c>create name</c>, <c>read name</c>, <c>taken name</c> or <c>ours name</c>, in order.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>When set, every name is taken by another writer's object (the suffix bound is reached).</summary>
    public bool EverythingTaken { get; set; }

    /// <summary>The object names, sorted ordinally.</summary>
    public string[] Names()
    {
        lock (_lock)
        {
            return [.. _objects.Keys.Order(StringComparer.Ordinal)];
        }
    }

    public byte[] Content(string name)
    {
        lock (_lock)
        {
            return _objects[name].Content;
        }
    }

    public string? ContentEncoding(string name)
    {
        lock (_lock)
        {
            return _objects[name].ContentEncoding;
        }
    }

    /// <summary>Puts an object there as another writer would.</summary>
    public void Put(string name, string? writeId = null)
    {
        lock (_lock)
        {
            _objects[name] = ([], writeId, null);
        }
    }

    /// <summary>The next create throws before writing.</summary>
    public void FailNextCreate() => (_failNextCreate, _commitBeforeFailing) = (new IOException("injected: the connection was reset"), false);

    /// <summary>The next create writes, then throws: its answer is lost.</summary>
    public void LoseNextAnswer() => (_failNextCreate, _commitBeforeFailing) = (new IOException("injected: the answer was lost"), true);

    public string Locate(string name) => "mem://store/" + name;

    public Task<bool> TryCreateAsync(ObjectUpload upload, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Calls.Add("create " + upload.Name);
            Exception? failure = _failNextCreate;
            _failNextCreate = null;
            if (failure is not null && !_commitBeforeFailing)
            {
                throw failure;
            }

            if (EverythingTaken || _objects.ContainsKey(upload.Name))
            {
                return Task.FromResult(false);
            }

            _objects[upload.Name] = (upload.Content.ToArray(), upload.WriteId, upload.ContentEncoding);
            return failure is null ? Task.FromResult(true) : throw failure;
        }
    }

    public Task<string?> ReadWriteIdAsync(ObjectUpload upload, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Calls.Add("read " + upload.Name);
            return Task.FromResult(_objects.TryGetValue(upload.Name, out var stored) ? stored.WriteId : null);
        }
    }

    public void OnNameTaken(string name) => Calls.Add("taken " + name);

    public void OnAlreadyWritten(string name) => Calls.Add("ours " + name);
}

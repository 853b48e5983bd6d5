using Azure;

namespace FlagExport.AzureBlob.Tests.Support;

/// <summary>
/// One blob container in memory, with Blob Storage's answers for what the exporter asks: a create on an existing name
/// is refused (409 BlobAlreadyExists) and writes nothing; a missing blob has no write id. Faults are scripted per
/// operation: fail the n-th call, or write and then lose the answer.
/// </summary>
internal sealed class InMemoryBlobContainer(string name = "in-memory-container") : IBlobContainer
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, StoredBlob> _blobs = new(StringComparer.Ordinal);
    private readonly List<(string Operation, int Call, Exception Error, bool AfterCommit)> _faults = [];
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);

    public string Name => name;

    public Uri ServiceUri { get; } = new("http://in-memory.blob.test/");

    public Uri ContainerUri => new(ServiceUri, name);

    /// <summary>Whether the container exists; a check answers 404 ContainerNotFound when not.</summary>
    public bool Exists { get; set; } = true;

    /// <summary>Every call, as <c>Operation name</c>, in order.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>The blob names, sorted ordinally.</summary>
    public string[] Names()
    {
        lock (_lock)
        {
            return [.. _blobs.Keys.Order(StringComparer.Ordinal)];
        }
    }

    public StoredBlob Get(string blobName)
    {
        lock (_lock)
        {
            return _blobs[blobName];
        }
    }

    /// <summary>Puts a blob there as another writer would.</summary>
    public void Put(string blobName, byte[] content, string? writeId = null)
    {
        lock (_lock)
        {
            _blobs[blobName] = new StoredBlob(content, new BlobContent("application/octet-stream", null), writeId);
        }
    }

    /// <summary>Makes the <paramref name="call"/>-th call of <paramref name="operation"/> (1-based, from now) throw before it does anything.</summary>
    public void Fail(string operation, int call, Exception error) => AddFault(operation, call, error, afterCommit: false);

    /// <summary>Makes the <paramref name="call"/>-th call of <paramref name="operation"/> do its work, then throw: a lost answer.</summary>
    public void CommitThenFail(string operation, int call, Exception error) => AddFault(operation, call, error, afterCommit: true);

    public static RequestFailedException Status(int status, string errorCode) => new(status, $"injected {status} {errorCode}", errorCode, null);

    public static IOException NetworkError() => new("injected: the connection was reset");

    public Task<bool> TryCreateAsync(string blobName, ReadOnlyMemory<byte> content, BlobContent headers, string writeId, CancellationToken cancellationToken)
    {
        (Exception? before, Exception? after) = Enter("Create", blobName);
        if (before is not null)
        {
            throw before;
        }

        lock (_lock)
        {
            if (!Exists)
            {
                throw Status(404, "ContainerNotFound");
            }

            if (_blobs.ContainsKey(blobName))
            {
                return after is null ? Task.FromResult(false) : throw after;
            }

            _blobs[blobName] = new StoredBlob(content.ToArray(), headers, writeId);
        }

        return after is null ? Task.FromResult(true) : throw after;
    }

    public Task<string?> ReadWriteIdAsync(string blobName, CancellationToken cancellationToken)
    {
        (Exception? before, _) = Enter("GetProperties", blobName);
        if (before is not null)
        {
            throw before;
        }

        lock (_lock)
        {
            return Task.FromResult(_blobs.TryGetValue(blobName, out StoredBlob? blob) ? blob.WriteId : null);
        }
    }

    public Task CheckAsync(CancellationToken cancellationToken)
    {
        (Exception? before, _) = Enter("GetContainerProperties", name);
        return before is not null ? throw before : Exists ? Task.CompletedTask : throw Status(404, "ContainerNotFound");
    }

    private void AddFault(string operation, int call, Exception error, bool afterCommit)
    {
        lock (_lock)
        {
            _faults.Add((operation, _calls.GetValueOrDefault(operation) + call, error, afterCommit));
        }
    }

    private (Exception? Before, Exception? After) Enter(string operation, string target)
    {
        lock (_lock)
        {
            Calls.Add($"{operation} {target}");
            int call = _calls[operation] = _calls.GetValueOrDefault(operation) + 1;
            int index = _faults.FindIndex(f => f.Operation == operation && f.Call == call);
            if (index < 0)
            {
                return (null, null);
            }

            var fault = _faults[index];
            _faults.RemoveAt(index);
            return fault.AfterCommit ? (null, fault.Error) : (fault.Error, null);
        }
    }
}

/// <summary>A blob's bytes, headers and write id.</summary>
internal sealed record StoredBlob(byte[] Content, BlobContent Headers, string? WriteId);

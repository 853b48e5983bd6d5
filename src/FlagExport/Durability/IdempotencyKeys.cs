namespace FlagExport.Durability;

/// <summary>
/// The <c>Idempotency-Key</c>s the collector acknowledged, by sender scope, for <see cref="Retention"/> and at most
/// <see cref="MaxKeys"/> of them: a retried request whose key is known is answered as it was the first time and kept
/// no second time (docs/durability.md, "Idempotency keys").
/// </summary>
/// <remarks>
/// <para>The index only remembers: in durable mode the key is made durable with the request's events, in the same group
/// commit (<see cref="DurableEventStore.TryAppend(IReadOnlyList{ExportableEvent}, IdempotencyRecord?, out long)"/>),
/// and recovered from the log and the key journal at start-up (<see cref="Restore"/>); in memory mode it lives as long
/// as the process.</para>
/// <para>Requests with the same scope and key are serialised: while one holds the claim, the others wait for its
/// outcome, so a key is never acknowledged twice, and never answered as a duplicate of a request that was refused.</para>
/// <para>Expiry runs on the injected clock, lazily, each time a key is claimed or remembered.</para>
/// </remarks>
internal sealed class IdempotencyKeys
{
    /// <summary>The request header.</summary>
    public const string Header = "Idempotency-Key";

    /// <summary>The longest key accepted.</summary>
    public const int MaxKeyLength = 255;

    /// <summary>The default <see cref="Retention"/>: longer than any sender's retry window, as webhook retries go.</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromHours(48);

    /// <summary>The default <see cref="MaxKeys"/>: about 200 MB of memory at most.</summary>
    public const int DefaultMaxKeys = 1_000_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Scope, string Key), LinkedListNode<IdempotencyRecord>> _held = [];
    private readonly LinkedList<IdempotencyRecord> _byArrival = []; // oldest first
    private readonly Dictionary<(string Scope, string Key), TaskCompletionSource> _claimed = [];
    private readonly TimeProvider _timeProvider;
    private long _forgottenInRetention;
    private long _duplicates;

    /// <summary>Creates an empty index.</summary>
    /// <param name="retention">How long a key is remembered after its request was acknowledged.</param>
    /// <param name="maxKeys">The most keys remembered; past it the oldest are forgotten first.</param>
    /// <param name="timeProvider">The clock of arrival times and expiry.</param>
    public IdempotencyKeys(TimeSpan retention, int maxKeys, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retention, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeys, 1);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Retention = retention;
        MaxKeys = maxKeys;
        _timeProvider = timeProvider;
    }

    /// <summary>How long a key is remembered.</summary>
    public TimeSpan Retention { get; }

    /// <summary>The most keys remembered.</summary>
    public int MaxKeys { get; }

    /// <summary>The clock of arrival times.</summary>
    public TimeProvider TimeProvider => _timeProvider;

    /// <summary>Keys remembered now (expired ones are dropped first).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                Expire(_timeProvider.GetUtcNow());
                return _held.Count;
            }
        }
    }

    /// <summary>Keys forgotten within their retention because <see cref="MaxKeys"/> was reached.</summary>
    public long ForgottenInRetentionCount => Interlocked.Read(ref _forgottenInRetention);

    /// <summary>Requests answered as duplicates of an acknowledged one.</summary>
    public long DuplicateCount => Interlocked.Read(ref _duplicates);

    /// <summary>Whether <paramref name="key"/> (the header's bytes) is a key: 1 to 255 printable ASCII characters.</summary>
    public static bool IsValidKey(ReadOnlySpan<byte> key)
    {
        if (key.Length is 0 or > MaxKeyLength)
        {
            return false;
        }

        foreach (byte b in key)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="key"/> (the header's value) is a key: 1 to 255 printable ASCII characters.</summary>
    public static bool IsValidKey(ReadOnlySpan<char> key)
    {
        if (key.Length is 0 or > MaxKeyLength)
        {
            return false;
        }

        foreach (char c in key)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Looks <paramref name="key"/> up in <paramref name="scope"/>, waiting while another request holds it. A new key is
    /// held by the returned claim until it is settled (disposing it refuses).
    /// </summary>
    public async ValueTask<IdempotencyClaim> ClaimAsync(string scope, string key, string bodyHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(bodyHash);
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                Expire(_timeProvider.GetUtcNow());
                if (_held.TryGetValue((scope, key), out LinkedListNode<IdempotencyRecord>? known))
                {
                    if (known.Value.BodyHash == bodyHash)
                    {
                        _ = Interlocked.Increment(ref _duplicates);
                        return new IdempotencyClaim(IdempotencyClaimOutcome.Duplicate, known.Value, null, scope, key, bodyHash);
                    }

                    return new IdempotencyClaim(IdempotencyClaimOutcome.Conflict, known.Value, null, scope, key, bodyHash);
                }

                if (!_claimed.TryGetValue((scope, key), out TaskCompletionSource? holder))
                {
                    _claimed.Add((scope, key), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                    return new IdempotencyClaim(IdempotencyClaimOutcome.New, null, this, scope, key, bodyHash);
                }

                wait = holder.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ends <paramref name="claim"/>: remembers <paramref name="record"/>, or nothing when the request was refused.</summary>
    internal void Settle(IdempotencyClaim claim, IdempotencyRecord? record)
    {
        TaskCompletionSource? holder;
        lock (_gate)
        {
            if (record is not null)
            {
                Add(record);
            }

            _ = _claimed.Remove((claim.Scope, claim.Key), out holder);
        }

        holder?.TrySetResult();
    }

    /// <summary>Remembers a key read back from the log or the journal at start-up; an expired one is left out.</summary>
    public void Restore(IdempotencyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            if (record.ArrivalTime + Retention <= _timeProvider.GetUtcNow() || _held.ContainsKey((record.Scope, record.Key)))
            {
                return;
            }

            Add(record);
        }
    }

    /// <summary>Whether <paramref name="record"/>'s key is remembered now (expired keys are not).</summary>
    public bool Holds(IdempotencyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            return _held.TryGetValue((record.Scope, record.Key), out LinkedListNode<IdempotencyRecord>? node)
                && node.Value.ArrivalTime + Retention > _timeProvider.GetUtcNow();
        }
    }

    /// <summary>The keys remembered now, oldest first, expired ones dropped first.</summary>
    public List<IdempotencyRecord> Snapshot()
    {
        lock (_gate)
        {
            Expire(_timeProvider.GetUtcNow());
            return [.. _byArrival];
        }
    }

    /// <summary>Adds <paramref name="record"/> in arrival order (restored records may come out of order), then applies the count bound.</summary>
    private void Add(IdempotencyRecord record)
    {
        if (_held.Remove((record.Scope, record.Key), out LinkedListNode<IdempotencyRecord>? old))
        {
            _byArrival.Remove(old);
        }

        LinkedListNode<IdempotencyRecord>? after = _byArrival.Last;
        while (after is not null && after.Value.ArrivalTime > record.ArrivalTime)
        {
            after = after.Previous;
        }

        LinkedListNode<IdempotencyRecord> node = after is null ? _byArrival.AddFirst(record) : _byArrival.AddAfter(after, record);
        _held.Add((record.Scope, record.Key), node);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        while (_held.Count > MaxKeys)
        {
            IdempotencyRecord oldest = _byArrival.First!.Value;
            if (oldest.ArrivalTime + Retention > now)
            {
                _ = Interlocked.Increment(ref _forgottenInRetention);
            }

            RemoveFirst();
        }
    }

    private void Expire(DateTimeOffset now)
    {
        while (_byArrival.First is { } oldest && oldest.Value.ArrivalTime + Retention <= now)
        {
            RemoveFirst();
        }
    }

    private void RemoveFirst()
    {
        IdempotencyRecord oldest = _byArrival.First!.Value;
        _byArrival.RemoveFirst();
        _ = _held.Remove((oldest.Scope, oldest.Key));
    }
}

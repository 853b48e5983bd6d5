namespace FlagExport.Durability;

/// <summary>What <see cref="IdempotencyKeys.ClaimAsync"/> found for a request's key.</summary>
internal enum IdempotencyClaimOutcome
{
    /// <summary>Unknown key: the caller keeps the request and settles the claim with what became of it.</summary>
    New,

    /// <summary>Acknowledged before with the same body: answer with the count recorded, keep nothing.</summary>
    Duplicate,

    /// <summary>Acknowledged before with another body: refuse, keep nothing.</summary>
    Conflict,
}

/// <summary>
/// The answer of <see cref="IdempotencyKeys.ClaimAsync"/>. A <see cref="IdempotencyClaimOutcome.New"/> claim holds the
/// key: other requests with it wait until <see cref="Accepted"/> or <see cref="Dispose"/> (refused) settles it.
/// </summary>
internal sealed class IdempotencyClaim : IDisposable
{
    private readonly IdempotencyKeys? _keys;
    private int _settled;

    internal IdempotencyClaim(IdempotencyClaimOutcome outcome, IdempotencyRecord? known, IdempotencyKeys? keys, string scope, string key, string bodyHash)
    {
        Outcome = outcome;
        Known = known;
        _keys = keys;
        Scope = scope;
        Key = key;
        BodyHash = bodyHash;
    }

    /// <summary>What was found.</summary>
    public IdempotencyClaimOutcome Outcome { get; }

    /// <summary>The record acknowledged before (duplicate or conflict); null for a new key.</summary>
    public IdempotencyRecord? Known { get; }

    /// <summary>The sender's scope.</summary>
    public string Scope { get; }

    /// <summary>The key.</summary>
    public string Key { get; }

    /// <summary>The body's hash.</summary>
    public string BodyHash { get; }

    /// <summary>The record to keep with the request's events, stamped now, answered with <paramref name="eventCount"/>.</summary>
    public IdempotencyRecord Record(int eventCount, DateTimeOffset now) => new(Scope, Key, BodyHash, eventCount, now);

    /// <summary>The request was acknowledged with <paramref name="record"/>: later requests with the key are duplicates.</summary>
    public void Accepted(IdempotencyRecord record)
    {
        if (_keys is not null && Interlocked.Exchange(ref _settled, 1) == 0)
        {
            _keys.Settle(this, record);
        }
    }

    /// <summary>Refused unless <see cref="Accepted"/> was called: a waiting request with the key goes on as new.</summary>
    public void Dispose()
    {
        if (_keys is not null && Interlocked.Exchange(ref _settled, 1) == 0)
        {
            _keys.Settle(this, record: null);
        }
    }
}

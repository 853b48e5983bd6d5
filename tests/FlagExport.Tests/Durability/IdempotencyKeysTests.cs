using FlagExport.Durability;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Durability;

/// <summary>
/// The index of acknowledged <c>Idempotency-Key</c>s: one request per scope and key at a time, a refused one leaves the
/// key unused, keys expire on the clock and the oldest go first past the count bound.
/// </summary>
public sealed class IdempotencyKeysTests
{
    private const string Scope = "0000000000000000000000000000000000000000000000000000000000000001";
    private const string OtherScope = "0000000000000000000000000000000000000000000000000000000000000002";
    private const string Body = "00000000000000000000000000000000000000000000000000000000000000aa";
    private const string OtherBody = "00000000000000000000000000000000000000000000000000000000000000bb";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnAcceptedKey_IsADuplicateForTheSameBody_AConflictForAnother_AndNewInAnotherScope()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromHours(1), 100, _time);
        await AcceptAsync(keys, Scope, "k", 5);

        using IdempotencyClaim same = await keys.ClaimAsync(Scope, "k", Body, Token);
        using IdempotencyClaim other = await keys.ClaimAsync(Scope, "k", OtherBody, Token);
        using IdempotencyClaim elsewhere = await keys.ClaimAsync(OtherScope, "k", Body, Token);

        Assert.Equal((IdempotencyClaimOutcome.Duplicate, 5), (same.Outcome, same.Known!.EventCount));
        Assert.Equal(IdempotencyClaimOutcome.Conflict, other.Outcome);
        Assert.Equal(IdempotencyClaimOutcome.New, elsewhere.Outcome);
        Assert.Equal(1, keys.DuplicateCount);
    }

    [Fact]
    public async Task ASecondClaim_WaitsForTheFirst_AndIsADuplicateOnceItIsAccepted()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromHours(1), 100, _time);
        IdempotencyClaim first = await keys.ClaimAsync(Scope, "k", Body, Token);
        Task<IdempotencyClaim> second = keys.ClaimAsync(Scope, "k", Body, Token).AsTask();
        Assert.False(second.IsCompleted);

        first.Accepted(first.Record(3, _time.GetUtcNow()));
        first.Dispose();

        using IdempotencyClaim settled = await second;
        Assert.Equal((IdempotencyClaimOutcome.Duplicate, 3), (settled.Outcome, settled.Known!.EventCount));
    }

    [Fact]
    public async Task ASecondClaim_WaitsForTheFirst_AndIsNewWhenTheFirstWasRefused()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromHours(1), 100, _time);
        IdempotencyClaim first = await keys.ClaimAsync(Scope, "k", Body, Token);
        Task<IdempotencyClaim> second = keys.ClaimAsync(Scope, "k", Body, Token).AsTask();
        Assert.False(second.IsCompleted);

        first.Dispose(); // refused: never accepted

        using IdempotencyClaim retry = await second;
        Assert.Equal(IdempotencyClaimOutcome.New, retry.Outcome);
        Assert.Equal(0, keys.Count);
    }

    [Fact]
    public async Task AKey_IsForgottenOnceItsRetentionHasPassed()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromHours(1), 100, _time);
        await AcceptAsync(keys, Scope, "k", 1);

        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(1, keys.Count);
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(0, keys.Count);
        using IdempotencyClaim again = await keys.ClaimAsync(Scope, "k", Body, Token);
        Assert.Equal(IdempotencyClaimOutcome.New, again.Outcome);
    }

    [Fact]
    public async Task PastTheCountBound_TheOldestKeysAreForgottenFirst_AndCounted()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromHours(1), 3, _time);
        for (int i = 0; i < 5; i++)
        {
            await AcceptAsync(keys, Scope, $"k{i}", 1);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, keys.Count);
        Assert.Equal(2, keys.ForgottenInRetentionCount);
        Assert.Equal(["k2", "k3", "k4"], keys.Snapshot().Select(r => r.Key));
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("batch-1:0", true)]
    [InlineData("tab\there", false)]
    [InlineData("é", false)]
    public void AKey_IsOneTo255PrintableAsciiCharacters(string key, bool valid)
    {
        Assert.Equal(valid, IdempotencyKeys.IsValidKey(key.AsSpan()));
        Assert.True(IdempotencyKeys.IsValidKey(new string('k', 255).AsSpan()));
        Assert.False(IdempotencyKeys.IsValidKey(new string('k', 256).AsSpan()));
    }

    [Fact]
    public void ARecord_ReadsBackAsWritten()
    {
        var record = new IdempotencyRecord(Scope, "batch-1:7", Body, 42, _time.GetUtcNow());
        byte[] payload = new byte[IdempotencyRecordCodec.MaxLength];

        int length = IdempotencyRecordCodec.Encode(record, payload);

        Assert.Equal(record, IdempotencyRecordCodec.Read(payload.AsSpan(0, length)));
        Assert.Throws<InvalidDataException>(() => IdempotencyRecordCodec.Read(payload.AsSpan(0, length - 1)));
    }

    private async Task AcceptAsync(IdempotencyKeys keys, string scope, string key, int count)
    {
        using IdempotencyClaim claim = await keys.ClaimAsync(scope, key, Body, Token);
        Assert.Equal(IdempotencyClaimOutcome.New, claim.Outcome);
        claim.Accepted(claim.Record(count, _time.GetUtcNow()));
    }
}

using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Durability;

/// <summary>
/// The durable buffer's side of <c>Idempotency-Key</c>: a key record in the request's own append, passed over by every
/// reader of events, recovered from the log at start-up, journaled before its segment is deleted and recovered from the
/// journal after.
/// </summary>
public sealed class IdempotencyStoreTests : IDisposable
{
    private const long BufferBytes = 1024 * 1024; // segments of 64 KiB
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _folder = new();
    private readonly FakeTimeProvider _time = new(Start);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task AKeyRecord_IsAppendedWithTheEvents_AndEveryReaderOfEventsPassesOverIt()
    {
        await using (DurableEventStore store = Open(NewKeys()))
        {
            _ = store.OpenCursor("x", EventType.Feature);
            store.AllCursorsOpened();
            using var reader = new DurableEventReader(store.Log, 0, eventType: null, "t", NullLogger.Instance);
            Assert.True(store.TryAppend(Events(0, 3), Record("batch-1", 3), out long end));
            await store.WaitForDurableAsync(end, Token);

            Assert.Equal(4, end); // three events, then the key
            var fromMemory = new List<ExportableEvent>();
            reader.ReadRange(0, end, fromMemory);
            Assert.Equal(["user-0", "user-1", "user-2"], fromMemory.Select(e => e.UserKey));
        }

        await using (DurableEventStore reopened = Open(NewKeys()))
        {
            using var reader = new DurableEventReader(reopened.Log, 0, EventType.Feature, "t", NullLogger.Instance);
            var fromDisk = new List<ExportableEvent>();
            reader.ReadRange(0, reopened.DurablePosition, fromDisk);
            Assert.Equal(["user-0", "user-1", "user-2"], fromDisk.Select(e => e.UserKey));
            ExporterCursor cursor = reopened.OpenCursor("x", EventType.Feature);
            Assert.Equal(3, OrphanedCursors.Backlog(reopened.Log, cursor)); // what drop-backlog and the orphan check count
        }
    }

    [Fact]
    public async Task DropBacklog_SetsAsideTheEvents_PassingOverTheKeyRecords()
    {
        await using (DurableEventStore store = Open(NewKeys()))
        {
            _ = store.OpenCursor("b", EventType.Feature);
            store.AllCursorsOpened();
            Assert.True(store.TryAppend(Events(0, 3), Record("batch-1", 3), out _));
            Assert.True(store.TryAppend(Events(3, 2), Record("batch-2", 2), out long end));
            await store.WaitForDurableAsync(end, Token);
        }

        string deadLetters = Path.Combine(_folder.Path, "dead-letter");
        long dropped = await DurableBufferBacklog.DropAsync(_folder.Path, "b", deadLetters, Token);

        Assert.Equal(5, dropped);
        string[] lines = [.. Directory.GetFiles(deadLetters, "events.jsonl", SearchOption.AllDirectories).SelectMany(File.ReadAllLines)];
        Assert.Equal(5, lines.Length);
        Assert.All(lines, line => Assert.Contains("\"userKey\":\"user-", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AtStart_TheKeysOfTheLog_AreRemembered_WithTheirCount()
    {
        await using (DurableEventStore store = Open(NewKeys()))
        {
            Assert.True(store.TryAppend(Events(0, 2), Record("batch-1", 2), out long end));
            await store.WaitForDurableAsync(end, Token);
        }

        IdempotencyKeys keys = NewKeys();
        await using DurableEventStore reopened = Open(keys);

        using IdempotencyClaim retry = await keys.ClaimAsync(Scope, "batch-1", BodyHash, Token);
        Assert.Equal(IdempotencyClaimOutcome.Duplicate, retry.Outcome);
        Assert.Equal(2, retry.Known!.EventCount);
        using IdempotencyClaim other = await keys.ClaimAsync(Scope, "batch-2", BodyHash, Token);
        Assert.Equal(IdempotencyClaimOutcome.New, other.Outcome);
    }

    [Fact]
    public async Task AKeyWhoseSegmentIsDeleted_IsInTheJournalFirst_AndRememberedAfterARestart()
    {
        await using (DurableEventStore store = Open(NewKeys()))
        {
            ExporterCursor cursor = store.OpenCursor("x", EventType.Feature);
            store.AllCursorsOpened();
            Assert.True(store.TryAppend(Events(0, 2), Record("batch-1", 2), out long end));
            await store.WaitForDurableAsync(end, Token);
            string first = Segments().First();
            end = await FillSegmentsAsync(store, 3);

            cursor.Commit(end);
            store.Release();

            Assert.False(File.Exists(first));
            Assert.True(new FileInfo(JournalPath).Length > 0);
        }

        IdempotencyKeys keys = NewKeys();
        await using DurableEventStore reopened = Open(keys);
        using IdempotencyClaim retry = await keys.ClaimAsync(Scope, "batch-1", BodyHash, Token);
        Assert.Equal(IdempotencyClaimOutcome.Duplicate, retry.Outcome);
    }

    [Fact]
    public async Task AKeyWhoseSegmentStays_IsNotJournaled_TheLogStillHoldsIt()
    {
        await using DurableEventStore store = Open(NewKeys());
        ExporterCursor cursor = store.OpenCursor("x", EventType.Feature);
        store.AllCursorsOpened();
        Assert.True(store.TryAppend(Events(0, 2), Record("batch-1", 2), out long end));
        await store.WaitForDurableAsync(end, Token);

        cursor.Commit(end);
        store.Release();

        Assert.Single(Segments());
        Assert.False(File.Exists(JournalPath));
    }

    [Fact]
    public async Task AKeyPastItsRetention_IsNotRememberedAtStart()
    {
        await using (DurableEventStore store = Open(NewKeys()))
        {
            Assert.True(store.TryAppend(Events(0, 1), Record("batch-1", 1), out long end));
            await store.WaitForDurableAsync(end, Token);
        }

        _time.Advance(TimeSpan.FromHours(49));
        IdempotencyKeys keys = NewKeys();
        await using DurableEventStore reopened = Open(keys);

        Assert.Equal(0, keys.Count);
        using IdempotencyClaim retry = await keys.ClaimAsync(Scope, "batch-1", BodyHash, Token);
        Assert.Equal(IdempotencyClaimOutcome.New, retry.Outcome);
    }

    [Fact]
    public void TheJournal_EndingInATornRecord_KeepsTheIntactOnes_AndCutsTheRest()
    {
        var journal = new IdempotencyJournal(JournalPath);
        journal.Append([Record("a", 1), Record("b", 2)]);
        long intact = new FileInfo(JournalPath).Length;
        using (var stream = new FileStream(JournalPath, FileMode.Append))
        {
            stream.Write([40, 0, 0, 0, 1, 2, 3]); // a crash in the middle of an append
        }

        (List<IdempotencyRecord> records, bool damaged) = new IdempotencyJournal(JournalPath).Read();

        Assert.True(damaged);
        Assert.Equal(["a", "b"], records.Select(r => r.Key));
        Assert.Equal(2, records[1].EventCount);
        Assert.Equal(intact, new FileInfo(JournalPath).Length);
    }

    [Fact]
    public void TheJournal_HoldingMostlyForgottenKeys_IsRewrittenWithTheKeysHeld()
    {
        var journal = new IdempotencyJournal(JournalPath);
        journal.Append([.. Enumerable.Range(0, 2_000).Select(i => Record($"k{i}", i))]);
        Assert.True(journal.ShouldCompact(held: 100));
        Assert.False(journal.ShouldCompact(held: 1_500));

        journal.Rewrite([.. Enumerable.Range(1_900, 100).Select(i => Record($"k{i}", i))]);

        Assert.Equal(100, journal.RecordCount);
        (List<IdempotencyRecord> records, bool damaged) = new IdempotencyJournal(JournalPath).Read();
        Assert.False(damaged);
        Assert.Equal(Enumerable.Range(1_900, 100).Select(i => $"k{i}"), records.Select(r => r.Key));
        Assert.Equal([JournalPath], Directory.GetFiles(_folder.Path)); // no temporary file left
    }

    [Fact]
    public async Task AtStart_AJournalOfMostlyExpiredKeys_IsCompacted_TheLiveOnesKept()
    {
        var journal = new IdempotencyJournal(JournalPath);
        journal.Append([.. Enumerable.Range(0, 2_000).Select(i => Record($"old{i}", 1) with { ArrivalTime = Start - TimeSpan.FromDays(3) })]);
        journal.Append([Record("live", 1)]);

        IdempotencyKeys keys = NewKeys();
        await using DurableEventStore store = Open(keys);

        Assert.Equal(1, keys.Count);
        (List<IdempotencyRecord> records, _) = new IdempotencyJournal(JournalPath).Read();
        Assert.Equal(["live"], records.Select(r => r.Key));
    }

    private const string Scope = "0000000000000000000000000000000000000000000000000000000000000001";
    private const string BodyHash = "00000000000000000000000000000000000000000000000000000000000000ff";

    private string JournalPath => Path.Combine(_folder.Path, IdempotencyJournal.FileName);

    private IdempotencyKeys NewKeys() => new(TimeSpan.FromHours(48), 1_000, _time);

    private DurableEventStore Open(IdempotencyKeys keys) => DurableEventStore.Open(_folder.Path, BufferBytes, keys: keys);

    private IdempotencyRecord Record(string key, int count) => new(Scope, key, BodyHash, count, _time.GetUtcNow());

    private string[] Segments() => [.. Directory.GetFiles(Path.Combine(_folder.Path, "log"), "*.seg").Order(StringComparer.Ordinal)];

    /// <summary>Appends 1 KiB events until <paramref name="segments"/> segments exist; returns the durable end.</summary>
    private async Task<long> FillSegmentsAsync(DurableEventStore store, int segments)
    {
        long end = store.DurablePosition;
        for (int i = 100; Segments().Length < segments; i += 10)
        {
            Assert.True(store.TryAppend([.. Enumerable.Range(i, 10).Select(n => (ExportableEvent)Event(n, 1_000))], out end));
            await store.WaitForDurableAsync(end, Token);
        }

        return end;
    }

    private static List<ExportableEvent> Events(int first, int count) => [.. Enumerable.Range(first, count).Select(i => (ExportableEvent)Event(i, 10))];

    private static FeatureEvent Event(int i, int valueLength) => new()
    {
        UserKey = $"user-{i}", Key = "flag", Variation = "on", CreationDate = 1_700_000_000, Value = new string('v', valueLength),
    };
}

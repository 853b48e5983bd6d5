using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.Tests.Durability;

/// <summary>
/// What the durable buffer does with an exporter whose configuration changed between two starts: one that now takes the
/// other event type, and one that is new.
/// </summary>
public sealed class ExporterCursorChangeTests : IDisposable
{
    private const int Events = 1_000;

    private const long MaxBytes = 1L << 20;

    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string BufferDirectory => Path.Combine(_folder.Path, "buffer");

    [Fact]
    public async Task OtherEventType_WithABacklog_StopsTheStart_AndKeepsTheCursorForTheOldType()
    {
        await FillAsync(commit: false);

        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes))
        {
            var refused = Assert.Throws<ExporterTypeChangedException>(() => store.OpenCursor("s3", EventType.Tracking));

            Assert.Equal(("s3", (long)Events), (refused.ExporterName, refused.Events));
            Assert.Contains($"holds {Events} feature events not yet exported by exporter 's3', which is now configured for the other event type", refused.Message, StringComparison.Ordinal);
            Assert.Contains("buffer drop-backlog s3", refused.Message, StringComparison.Ordinal);
        }

        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes))
        {
            ExporterCursor back = store.OpenCursor("s3", EventType.Feature);
            store.AllCursorsOpened();
            Assert.Equal(0, back.Committed); // set back to feature, it still owes every event
        }
    }

    [Fact]
    public async Task OtherEventType_OwingNothing_StartsOverAtTheEnd_WithAnInformationLine()
    {
        long end = await FillAsync(commit: true);
        var logger = new FakeLogger();

        await using DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes, logger);
        ExporterCursor cursor = store.OpenCursor("s3", EventType.Tracking);

        Assert.Equal((end, true, EventType.Tracking), (cursor.Committed, cursor.WasReset, cursor.EventType));
        FakeLogRecord reset = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "CursorReset");
        Assert.Equal(LogLevel.Information, reset.Level);
    }

    [Fact]
    public async Task OtherEventType_OwingNothing_SavesTheNewCursor_SoACrashBeforeItsFirstBatchSkipsNothing()
    {
        long end = await FillAsync(commit: true);

        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes))
        {
            ExporterCursor tracking = store.OpenCursor("s3", EventType.Tracking);
            store.AllCursorsOpened();
            Assert.Equal(end, tracking.Committed);
            Assert.True(store.TryAppend([.. Enumerable.Range(0, 10).Select(i => (ExportableEvent)TestEvents.Tracking(i))], out long appended));
            await store.WaitForDurableAsync(appended, TestContext.Current.CancellationToken);

            // A crash before the first batch: nothing is committed.
        }

        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes))
        {
            ExporterCursor reopened = store.OpenCursor("s3", EventType.Tracking);
            store.AllCursorsOpened();

            // The acknowledged tracking events are still owed, not skipped by a second "start over".
            Assert.Equal((end, false), (reopened.Committed, reopened.WasReset));
        }
    }

    [Fact]
    public async Task DamagedCursor_TheMessageSaysWhatMovingItAsideCosts()
    {
        await FillAsync(commit: true);
        string file = Path.Combine(BufferDirectory, "cursors", ExporterCursor.FileNameOf("s3"));
        await File.WriteAllTextAsync(file, "{ not json", TestContext.Current.CancellationToken);

        var damaged = Assert.Throws<InvalidDataException>(() => ExporterCursor.Read(file));

        Assert.Contains("start with the events acknowledged from then on", damaged.Message, StringComparison.Ordinal);
        Assert.Contains("the events it still owed would not be exported", damaged.Message, StringComparison.Ordinal);
        Assert.Contains("'flagexport-collector buffer drop-backlog NAME' cannot set them aside without the cursor", damaged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("oldest buffered event", damaged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewExporter_StartsAtTheEndOfTheLog_NotAtTheOldestEventKept()
    {
        long end = await FillAsync(commit: true);

        await using DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes);
        _ = store.OpenCursor("s3", EventType.Feature);
        ExporterCursor added = store.OpenCursor("added", EventType.Feature);
        store.AllCursorsOpened();

        // The buffered events were acknowledged before it existed and belong to the exporters of that time; one re-added
        // after its backlog was set aside must not write those events a second time.
        Assert.Equal(Events, end);
        Assert.Equal(end, added.Committed);
    }

    /// <summary>Appends <see cref="Events"/> feature events for exporter s3 (written by it or not); returns the log's end.</summary>
    private async Task<long> FillAsync(bool commit)
    {
        await using DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes);
        ExporterCursor cursor = store.OpenCursor("s3", EventType.Feature);
        store.AllCursorsOpened();
        Assert.True(store.TryAppend([.. Enumerable.Range(0, Events).Select(i => (ExportableEvent)TestEvents.Feature(i))], out _));
        await store.FlushAsync(TestContext.Current.CancellationToken);
        if (commit)
        {
            cursor.Commit(store.DurablePosition);
        }

        return store.DurablePosition;
    }
}

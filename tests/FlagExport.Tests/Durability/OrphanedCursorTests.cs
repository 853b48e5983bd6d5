using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.Tests.Durability;

/// <summary>
/// A cursor left by an exporter that is no longer registered (removed or renamed): with events still owed it stops the
/// start and keeps every segment it needs until its backlog is set aside as dead letters; with none it is removed.
/// </summary>
public sealed class OrphanedCursorTests : IDisposable
{
    private const int Events = 12_000;

    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string BufferDirectory => Path.Combine(_folder.Path, "buffer");

    private string DeadLetterDirectory => Path.Combine(_folder.Path, "dead-letter");

    private string[] Segments => Directory.GetFiles(Path.Combine(BufferDirectory, "log"), "*.seg");

    [Fact]
    public async Task WithABacklog_StopsTheStart_KeepsItsSegments_UntilDropAsyncSetsEveryEventAside()
    {
        await FillAsync(commitB: false);
        int segments = Segments.Length;
        Assert.True(segments > 2, $"{segments} segments: the test needs several");

        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes))
        {
            _ = store.OpenCursor("a", EventType.Feature);
            var refused = Assert.Throws<OrphanedExporterException>(store.AllCursorsOpened);
            Assert.Equal([("b", (long)Events)], refused.Orphans);
            Assert.Contains($"holds {Events} events not yet exported by exporter 'b'", refused.Message, StringComparison.Ordinal);
            Assert.Contains("buffer drop-backlog b", refused.Message, StringComparison.Ordinal);

            store.Release(); // even if a caller went on regardless
            Assert.Equal(segments + 1, Segments.Length); // every one kept, and the one the open started for new appends
        }

        long dropped = await DurableBufferBacklog.DropAsync(BufferDirectory, "b", DeadLetterDirectory, TestContext.Current.CancellationToken);

        Assert.Equal(Events, dropped);
        var replayed = new InMemoryExporter();
        Assert.Equal(Events, await ReplayIntoAsync(replayed));
        Assert.Equal(Enumerable.Range(0, Events).Select(i => (long)i), replayed.Ids.Order());
        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes))
        {
            _ = store.OpenCursor("a", EventType.Feature);
            store.AllCursorsOpened();
            store.Release();
            Assert.True(Segments.Length < segments, "the segments only b needed are released once its backlog is set aside");
        }
    }

    [Fact]
    public async Task DropAsync_EventsSharingTheirRequestsMetadata_SetsEachAsideOnceWithItsMetadata_AlsoInALetterStartingInsideARequest()
    {
        // Five requests of 2,500 events, each with its own meta: the log holds a metadata record before each request's
        // events, and the second letter (positions 10,000 on) starts inside the fourth request, after its metadata record.
        const int requests = 5, perRequest = 2_500;
        FlagObject[] metas = [.. Enumerable.Range(0, requests).Select(r => FlagObject.Create([new("request", FlagValue.FromInteger(r))]))];
        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, 1L << 30))
        {
            _ = store.OpenCursor("b", EventType.Feature);
            store.AllCursorsOpened();
            for (int r = 0; r < requests; r++)
            {
                Assert.True(store.TryAppend([.. Enumerable.Range(r * perRequest, perRequest).Select(i => (ExportableEvent)SharedMetadataTests.Event(i, metas[r]))], out long end));
                await store.WaitForDurableAsync(end, TestContext.Current.CancellationToken);
            }

            Assert.Single(Segments); // so the second letter starts mid-segment, its metadata record before it
            Assert.True(store.DurablePosition > DurableBufferBacklog.LetterPositions + perRequest, "the test needs a second letter");
            store.Release();
        }

        long dropped = await DurableBufferBacklog.DropAsync(BufferDirectory, "b", DeadLetterDirectory, TestContext.Current.CancellationToken);

        Assert.Equal(requests * perRequest, dropped);
        Assert.Equal(2, Directory.GetFiles(DeadLetterDirectory, "events.fxev", SearchOption.AllDirectories).Length);
        var replayed = new InMemoryExporter();
        Assert.Equal(requests * perRequest, await ReplayIntoAsync(replayed));
        Assert.Equal(Enumerable.Range(0, requests * perRequest).Select(i => (long)i), replayed.Ids.Order());
        Assert.All(replayed.Batches.SelectMany(b => b), e => Assert.Equal(metas[e.CreationDate / perRequest], ((FeatureEvent)e).MetadataObject));
    }

    [Fact]
    public async Task WithoutABacklog_IsRemoved_WithAnInformationLine()
    {
        await FillAsync(commitB: true);
        var logger = new FakeLogger();

        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes, logger))
        {
            _ = store.OpenCursor("a", EventType.Feature);
            store.AllCursorsOpened();
        }

        Assert.False(File.Exists(Path.Combine(BufferDirectory, "cursors", ExporterCursor.FileNameOf("b"))));
        FakeLogRecord removed = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "OrphanedCursorRemoved");
        Assert.Equal(LogLevel.Information, removed.Level);
        Assert.Contains("'b'", removed.Message, StringComparison.Ordinal);
    }

    /// <summary>Small segments, so that several hold the events.</summary>
    private const long MaxBytes = 1L << 20;

    /// <summary>Appends <see cref="Events"/> feature events; exporter a has written them all, b all or none.</summary>
    private async Task FillAsync(bool commitB)
    {
        await using DurableEventStore store = DurableEventStore.Open(BufferDirectory, MaxBytes);
        ExporterCursor a = store.OpenCursor("a", EventType.Feature);
        ExporterCursor b = store.OpenCursor("b", EventType.Feature);
        store.AllCursorsOpened();
        foreach (int[] chunk in Enumerable.Range(0, Events).Chunk(500))
        {
            Assert.True(store.TryAppend([.. chunk.Select(i => (ExportableEvent)TestEvents.Feature(i))], out _));
            await store.FlushAsync(TestContext.Current.CancellationToken);
        }

        a.Commit(store.DurablePosition);
        if (commitB)
        {
            b.Commit(store.DurablePosition);
        }

        store.Release();
    }

    /// <summary>Replays the letters through an exporter registered under b's name, the one that set them aside.</summary>
    private async Task<long> ReplayIntoAsync(InMemoryExporter exporter)
    {
        var services = new ServiceCollection();
        _ = services.AddFlagExport().AddExporter("b", _ => exporter);
        await using ServiceProvider provider = services.BuildServiceProvider();
        return await DeadLetters.ReplayAsync(DeadLetterDirectory, provider, cancellationToken: TestContext.Current.CancellationToken);
    }
}

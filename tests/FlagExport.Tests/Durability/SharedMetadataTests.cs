using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport.Tests.Durability;

/// <summary>A request's metadata, shared by its events, is stored once in the durable log and read back as one object.</summary>
public sealed class SharedMetadataTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string BufferDirectory => Path.Combine(_folder.Path, "buffer");

    [Fact]
    public async Task TryAppend_EventsSharingALargeMeta_LogGrowsByAboutTheRequest_AndReadsBackOneSharedObject()
    {
        FlagObject meta = Meta(100_000);
        ExportableEvent[] events = [.. Enumerable.Range(0, 1000).Select(i => Event(i, meta))];
        await using (var store = DurableEventStore.Open(BufferDirectory, maxBytes: 1L << 30))
        {
            Assert.True(store.TryAppend(events, out long end));
            await store.WaitForDurableAsync(end, TestContext.Current.CancellationToken);

            // 100 KB of metadata and 1,000 small events: once, not 1,000 times (100 MB).
            Assert.InRange(store.SizeBytes, 100_000, 200_000);
        }

        await using var reopened = DurableEventStore.Open(BufferDirectory, maxBytes: 1L << 30);
        List<ExportableEvent> read = ReadFrom(reopened, 0);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), read.Select(e => e.CreationDate));
        FlagObject first = ((FeatureEvent)read[0]).MetadataObject!;
        Assert.Equal(meta, first);
        Assert.All(read, e => Assert.Same(first, ((FeatureEvent)e).MetadataObject));

        // A reader that starts inside the group (a batch cut there, a cursor after a restart) finds the metadata too.
        List<ExportableEvent> tail = ReadFrom(reopened, 600);
        Assert.NotEmpty(tail);
        Assert.All(tail, e => Assert.Equal(meta, ((FeatureEvent)e).MetadataObject));
    }

    [Fact]
    public async Task TryAppend_GroupSpanningSegments_EachSegmentHasItsMetadata_ReadableFromAnyPositionAfterARelease()
    {
        FlagObject meta = Meta(10_000);
        ExportableEvent[] events = [.. Enumerable.Range(0, 3000).Select(i => Event(i, meta, userKey: new string('u', 100)))];
        ExportableEvent[] own = [TestEvents.Feature(5000), TestEvents.Feature(5001)]; // no shared metadata: inline, as before
        await using var store = DurableEventStore.Open(BufferDirectory, maxBytes: 1L << 20); // 128 KiB segments
        ExporterCursor cursor = store.OpenCursor("reader");
        store.AllCursorsOpened();
        Assert.True(store.TryAppend(events, out _));
        Assert.True(store.TryAppend(own, out long end));
        await store.WaitForDurableAsync(end, TestContext.Current.CancellationToken);
        Assert.True(Directory.GetFiles(Path.Combine(BufferDirectory, "log"), "*.seg").Length >= 3, "the group spans several segments");

        for (long start = 0; start < end; start += 211)
        {
            List<ExportableEvent> read = ReadFrom(store, start);
            Assert.Equal(read.Select(e => e.CreationDate).Order(), read.Select(e => e.CreationDate));
            Assert.All(read.Where(e => e.CreationDate < 5000), e => Assert.Equal(meta, ((FeatureEvent)e).MetadataObject));
            Assert.Equal([5000L, 5001L], read.TakeLast(2).Select(e => e.CreationDate));
        }

        // Committing past the first segments deletes them; what is left still reads whole.
        long committed = end - 800;
        long[] expected = [.. ReadFrom(store, committed).Select(e => e.CreationDate)];
        cursor.Commit(committed);
        store.Release();
        Assert.True(store.Log.StartPosition > 0, "segments were released");
        List<ExportableEvent> rest = ReadFrom(store, committed);
        Assert.Equal(expected, rest.Select(e => e.CreationDate));
        Assert.All(rest.Where(e => e.CreationDate < 5000), e => Assert.Equal(meta, ((FeatureEvent)e).MetadataObject));
    }

    [Fact]
    public async Task TryAppend_OtherRecordsBetweenEventsSharingMetadata_OpenASegment_TheEventsAfterThemStillFindTheirMetadata()
    {
        FlagObject meta = Meta(5_000);
        FlagObject details = FlagObject.Create([new("pad", FlagValue.FromString(new string('d', 200)))]);

        // Tracking events (their own details inline) between the feature events: a segment often starts with one of them.
        ExportableEvent[] events = [.. Enumerable.Range(0, 6000).Select(i => i % 3 == 2
            ? (ExportableEvent)new TrackingEvent { CreationDate = i, Key = "t", TrackingEventDetails = details }
            : Event(i, meta))];
        await using var store = DurableEventStore.Open(BufferDirectory, maxBytes: 1L << 20); // 128 KiB segments
        Assert.True(store.TryAppend(events, out long end));
        await store.WaitForDurableAsync(end, TestContext.Current.CancellationToken);

        var segmentStarts = Directory.GetFiles(Path.Combine(BufferDirectory, "log"), "*.seg").Select(f => long.Parse(Path.GetFileNameWithoutExtension(f), System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
        Assert.True(segmentStarts.Count >= 5, "several segments");
        foreach (long start in segmentStarts.Concat(segmentStarts.Select(p => p + 1)))
        {
            List<ExportableEvent> read = ReadFrom(store, start);
            Assert.Equal(events.Where(e => e is FeatureEvent).Select(e => e.CreationDate).Where(id => read.Count == 0 || id >= read[0].CreationDate), read.Select(e => e.CreationDate));
            Assert.All(read, e => Assert.Equal(meta, ((FeatureEvent)e).MetadataObject));
        }
    }

    [Fact]
    public async Task TryAppend_EventsSharingMetadata_AllocatesNothingPerEvent()
    {
        FlagObject meta = Meta(10_000);
        ExportableEvent[] events = [.. Enumerable.Range(0, 2000).Select(i => Event(i, meta))];
        await using var store = DurableEventStore.Open(BufferDirectory, maxBytes: 1L << 30);
        for (int round = 0; round < 5; round++)
        {
            // The log's two pending buffers (appended to, and being written) grow once to what three calls need, as measured below.
            long warm = 0;
            for (int i = 0; i < 3; i++)
            {
                Assert.True(store.TryAppend(events, out warm));
            }

            await store.WaitForDurableAsync(warm, TestContext.Current.CancellationToken);
        }

        // The least of ten calls: the log's two pending buffers only grow, by doubling, but under load its flusher may let
        // several calls pile up in one of them and grow it once more; a growth falls on one call, not on every call.
        long allocated = await ThreadAllocations.LeastOfAsync(10, () =>
        {
            Assert.True(store.TryAppend(events, out _));
            return Task.CompletedTask;
        });

        Assert.True(allocated < 2000, $"{allocated} bytes for 2,000 events: the call's scratch buffer only, nothing per event");
    }

    private static List<ExportableEvent> ReadFrom(DurableEventStore store, long position)
    {
        var read = new List<ExportableEvent>();
        using var reader = new DurableEventReader(store.Log, position, EventType.Feature, "t", NullLogger.Instance);
        reader.ReadRange(position, store.DurablePosition, read);
        return read;
    }

    internal static FlagObject Meta(int bytes) => FlagObject.Create([new("blob", FlagValue.FromString(new string('m', bytes))), new("env", FlagValue.FromString("prod"))]);

    internal static FeatureEvent Event(long id, FlagObject meta, string userKey = "user") =>
        new() { CreationDate = id, Key = "flag", UserKey = userKey, Variation = "v", Value = FlagValue.FromInteger(id), Metadata = meta };
}

using System.Buffers;
using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FsCheck.Xunit;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace FlagExport.Tests.Durability;

/// <summary>
/// Readers that have caught up with the writer take their events from memory (the objects appended), and the log is
/// read only for what memory no longer holds; either way a range is cut at the same place and holds equal events.
/// </summary>
public sealed class RecentRecordsTests
{
    private const long BufferBytes = 1024 * 1024; // segments of 128 KiB: the bulk below fills several, copying its metadata

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_caught_up_reader_takes_the_appended_objects_from_memory_and_decodes_nothing()
    {
        using var dir = new TempDirectory();
        await using var store = DurableEventStore.Open(dir.Path, BufferBytes);
        using var reader = new DurableEventReader(store.Log, store.Log.EndPosition, eventType: null, "t", NullLogger.Instance);
        List<ExportableEvent> appended = [];
        foreach (List<ExportableEvent> request in Requests(Bulk(300), 25))
        {
            Assert.True(store.TryAppend(request, out long end));
            await store.WaitForDurableAsync(end, Token);
            appended.AddRange(request);
        }

        var read = new List<ExportableEvent>();
        Assert.Equal(store.DurablePosition, reader.ReadRange(0, store.DurablePosition, read, long.MaxValue, EventSize.Bound));

        Assert.Equal(appended.Count, read.Count);
        Assert.All(appended.Zip(read), pair => Assert.Same(pair.First, pair.Second));
        Assert.Equal(0, reader.RecordsDecoded);
        Assert.Equal(appended.Count, reader.EventsFromMemory);

        // Its only reader is past them: memory holds nothing any more.
        Assert.Equal(0, store.Log.Recent.Count);
        Assert.Equal(0, store.Log.Recent.Bytes);
    }

    [Fact]
    public async Task Records_are_dropped_from_memory_once_every_reader_is_past_them()
    {
        using var dir = new TempDirectory();
        await using var store = DurableEventStore.Open(dir.Path, BufferBytes);
        using var ahead = new DurableEventReader(store.Log, 0, EventType.Feature, "ahead", NullLogger.Instance);
        using var behind = new DurableEventReader(store.Log, 0, EventType.Feature, "behind", NullLogger.Instance);
        ExportableEvent[] events = [.. Bulk(100)];
        Assert.True(store.TryAppend(events, out long end));
        await store.WaitForDurableAsync(end, Token);
        long held = store.Log.Recent.Count;

        ahead.ReadRange(0, end, []);
        Assert.Equal(held, store.Log.Recent.Count);

        behind.ReadRange(0, end / 2, []);
        Assert.Equal(end - (end / 2), store.Log.Recent.Count);

        behind.ReadRange(end / 2, end, []);
        Assert.Equal(0, store.Log.Recent.Count);
        Assert.Equal(0, ahead.RecordsDecoded + behind.RecordsDecoded);
    }

    [Fact]
    public async Task Past_its_bound_memory_drops_the_oldest_and_a_reader_takes_them_from_the_log_as_equal_events()
    {
        using var dir = new TempDirectory();
        await using var store = DurableEventStore.Open(dir.Path, BufferBytes, recentRecords: 40);
        using var reader = new DurableEventReader(store.Log, 0, eventType: null, "t", NullLogger.Instance);
        ExportableEvent[] events = [.. Bulk(100)];
        Assert.True(store.TryAppend(events, out long end));
        await store.WaitForDurableAsync(end, Token);
        Assert.Equal(40, store.Log.Recent.Count);

        var read = new List<ExportableEvent>();
        reader.ReadRange(0, end, read);

        AssertEqualEvents(events, read);
        Assert.Equal(events.Length - reader.EventsFromMemory, reader.RecordsDecoded);
        Assert.InRange(reader.EventsFromMemory, 38, 40); // the last 40 records, one or two of them metadata
        Assert.All(events.Zip(read).TakeLast((int)reader.EventsFromMemory), pair => Assert.Same(pair.First, pair.Second));
    }

    [Fact]
    public async Task After_a_restart_memory_is_empty_and_the_backlog_is_read_from_the_log()
    {
        using var dir = new TempDirectory();
        ExportableEvent[] events = [.. Bulk(50)];
        await using (var store = DurableEventStore.Open(dir.Path, BufferBytes))
        {
            Assert.True(store.TryAppend(events, out long end));
            await store.WaitForDurableAsync(end, Token);
        }

        await using var reopened = DurableEventStore.Open(dir.Path, BufferBytes);
        Assert.Equal(0, reopened.Log.Recent.Count);
        using var reader = new DurableEventReader(reopened.Log, 0, eventType: null, "t", NullLogger.Instance);
        var read = new List<ExportableEvent>();
        reader.ReadRange(0, reopened.DurablePosition, read);

        AssertEqualEvents(events, read);
        Assert.Equal(events.Length, reader.RecordsDecoded);
        Assert.Equal(0, reader.EventsFromMemory);
    }

    [Fact]
    public async Task The_events_of_a_discarded_group_commit_are_never_served_from_memory()
    {
        using var dir = new TempDirectory();
        var disk = new FailingDisk();
        await using SegmentLog log = SegmentLog.Open(
            dir.Path, new SegmentLogOptions { FlushToDisk = disk.Flush, RecentRecordCount = 1000, RecentRecordBytes = 1 << 20 });
        using var reader = new DurableEventReader(log, 0, eventType: null, "t", NullLogger.Instance);
        ExportableEvent[] kept = [.. Bulk(6).Select((e, i) => WithCreationDate(e, i))];
        ExportableEvent[] refused = [.. Bulk(4).Select((e, i) => WithCreationDate(e, 100 + i))];

        await log.WaitForDurableAsync(Append(log, kept[..3]), Token);
        disk.FailNext = true;
        long refusedEnd = Append(log, refused);
        await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(refusedEnd, Token));
        await log.WaitForDurableAsync(Append(log, kept[3..]), Token);

        var read = new List<ExportableEvent>();
        reader.ReadRange(0, log.DurablePosition, read);

        Assert.Equal(kept.Select(e => e.CreationDate), read.Select(e => e.CreationDate));
        Assert.All(kept.Zip(read), pair => Assert.Same(pair.First, pair.Second));
        Assert.Equal(0, reader.RecordsDecoded);
    }

    /// <summary>
    /// The batch cut (byte budget, event type, the event held over to the next range, shared metadata across segments)
    /// gives the same ranges and equal events from memory, from the log after a restart (what a crash before the range
    /// is saved re-cuts), and from both mixed when memory holds only the latest records.
    /// </summary>
    [Property(MaxTest = 12, Arbitrary = [typeof(EventArbitraries)])]
    public void A_batch_is_cut_the_same_from_memory_as_from_the_log(ExportableEvent[] arbitrary, byte seed)
    {
        ExportableEvent[] events = [.. Bulk(700), .. WithSharedMetadata(arbitrary), .. Bulk(700)];
        List<List<ExportableEvent>> requests = Requests(events, 20 + (seed % 40));
        long budget = 200 + (seed * 20); // a few events per range, sometimes one
        using var memoryDir = new TempDirectory();
        using var mixedDir = new TempDirectory();
        foreach (EventType? type in new EventType?[] { null, EventType.Feature, EventType.Tracking })
        {
            List<Cut> fromMemory = CutAfterAppending(memoryDir.Path, requests, type, budget, recentRecords: DurableEventStore.DefaultRecentRecords, out DurableEventReader memory);
            Assert.Equal(0, memory.RecordsDecoded);
            List<Cut> fromLog = CutAfterRestart(memoryDir.Path, type, budget, out DurableEventReader disk);
            Assert.Equal(0, disk.EventsFromMemory);
            List<Cut> mixed = CutAfterAppending(mixedDir.Path, requests, type, budget, recentRecords: 150, out DurableEventReader both);
            Assert.True(both.RecordsDecoded > 0 && both.EventsFromMemory > 0, "the mixed cut took events from the log and from memory");
            Assert.True(Directory.GetFiles(Path.Combine(memoryDir.Path, "log"), "*.seg").Length > 1, "the metadata records were copied into later segments");

            AssertSameCuts(fromLog, fromMemory);
            AssertSameCuts(fromLog, mixed);
            Assert.Equal(events.Count(e => type is null || e.EventType == type), fromLog.Sum(c => c.Events.Count));
            Directory.Delete(memoryDir.Path, recursive: true);
            Directory.Delete(mixedDir.Path, recursive: true);
        }
    }

    private static List<Cut> CutAfterAppending(
        string directory, List<List<ExportableEvent>> requests, EventType? type, long budget, int recentRecords, out DurableEventReader reader)
    {
        DurableEventStore store = DurableEventStore.Open(directory, BufferBytes, recentRecords: recentRecords, recentBytes: 64L << 20);
        try
        {
            reader = new DurableEventReader(store.Log, 0, type, "t", NullLogger.Instance);
            foreach (List<ExportableEvent> request in requests)
            {
                Assert.True(store.TryAppend(request, out _));
            }

            store.FlushAsync(Token).GetAwaiter().GetResult();
            List<Cut> cuts = CutAll(reader, store.DurablePosition, budget);
            reader.Dispose();
            return cuts;
        }
        finally
        {
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static List<Cut> CutAfterRestart(string directory, EventType? type, long budget, out DurableEventReader reader)
    {
        DurableEventStore store = DurableEventStore.Open(directory, BufferBytes);
        try
        {
            reader = new DurableEventReader(store.Log, 0, type, "t", NullLogger.Instance);
            List<Cut> cuts = CutAll(reader, store.DurablePosition, budget);
            reader.Dispose();
            return cuts;
        }
        finally
        {
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Cuts ranges as the pipeline does: up to 61 positions, ended early by the byte budget of <see cref="EventSize.Bound"/>.</summary>
    private static List<Cut> CutAll(DurableEventReader reader, long durable, long budget)
    {
        var cuts = new List<Cut>();
        long first = 0;
        while (first < durable)
        {
            var batch = new List<ExportableEvent>();
            long stop = reader.ReadRange(first, Math.Min(first + 61, durable), batch, budget, EventSize.Bound);
            cuts.Add(new Cut(first, stop, batch));
            first = stop;
        }

        return cuts;
    }

    private static void AssertSameCuts(List<Cut> expected, List<Cut> actual)
    {
        Assert.Equal(expected.Select(c => (c.First, c.Stop)), actual.Select(c => (c.First, c.Stop)));
        for (int i = 0; i < expected.Count; i++)
        {
            AssertEqualEvents(expected[i].Events, actual[i].Events);
        }
    }

    /// <summary>Equal events: the same canonical payload (every field exact) and the same byte bound.</summary>
    private static void AssertEqualEvents(IReadOnlyList<ExportableEvent> expected, List<ExportableEvent> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(Payload(expected[i]), Payload(actual[i]));
            Assert.Equal(EventSize.Bound(expected[i]), EventSize.Bound(actual[i]));
        }
    }

    private static byte[] Payload(ExportableEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>();
        EventRecordCodec.Write(e, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Appends <paramref name="events"/> as one group, each record with its object (no shared metadata).</summary>
    private static long Append(SegmentLog log, ExportableEvent[] events)
    {
        var payloads = new ArrayBufferWriter<byte>();
        var lengths = new int[events.Length];
        var tags = new byte[events.Length];
        for (int i = 0; i < events.Length; i++)
        {
            int before = payloads.WrittenCount;
            EventRecordCodec.Write(events[i], payloads);
            (lengths[i], tags[i]) = (payloads.WrittenCount - before, EventRecordCodec.TagOf(events[i]));
        }

        Assert.True(log.TryAppendBatch(tags, lengths, payloads.WrittenSpan, refersTo: default, items: events, out long end));
        return end;
    }

    /// <summary>Feature events sharing one metadata object of a few kilobytes, a tracking event every seventh.</summary>
    private static IEnumerable<ExportableEvent> Bulk(int count)
    {
        FlagObject meta = FlagObject.Create([
            new("blob", FlagValue.FromString(new string('m', 2000))), new("ratio", FlagValue.FromDouble(1.0)), new("n", FlagValue.FromInteger(1)),
            new("surrogate", FlagValue.FromString("\uD800x\uDFFF")),
        ]);
        for (int i = 0; i < count; i++)
        {
            yield return i % 7 == 6
                ? new TrackingEvent { CreationDate = i, Key = "track", UserKey = $"u{i}", TrackingEventDetails = FlagObject.Create([new("value", FlagValue.FromDouble(i / 3.0))]) }
                : new FeatureEvent { CreationDate = i, Key = "flag", UserKey = $"user-{i}", Variation = "on", Value = FlagValue.FromDouble(1.0), Metadata = meta };
        }
    }

    /// <summary>The feature events of every other run of five share one metadata object, as a request's <c>meta</c> is shared.</summary>
    private static IEnumerable<ExportableEvent> WithSharedMetadata(ExportableEvent[] events)
    {
        FlagObject? shared = null;
        for (int i = 0; i < events.Length; i++)
        {
            if (i % 10 < 5 || events[i] is not FeatureEvent f)
            {
                yield return events[i];
                continue;
            }

            shared = i % 10 == 5 || shared is null ? f.MetadataObject ?? FlagObject.Empty : shared;
            yield return new FeatureEvent
            {
                Kind = f.Kind, ContextKind = f.ContextKind, UserKey = f.UserKey, CreationDate = f.CreationDate, Key = f.Key,
                Variation = f.Variation, Value = f.Value, Default = f.Default, Version = f.Version, Source = f.Source, Metadata = shared,
            };
        }
    }

    private static ExportableEvent WithCreationDate(ExportableEvent e, long creationDate) => e switch
    {
        FeatureEvent f => new FeatureEvent { CreationDate = creationDate, Key = f.Key, UserKey = f.UserKey, Value = f.Value, Metadata = f.MetadataObject },
        _ => new TrackingEvent { CreationDate = creationDate, Key = e.Key, UserKey = e.UserKey },
    };

    private static List<List<ExportableEvent>> Requests(IEnumerable<ExportableEvent> events, int size) =>
        [.. events.Chunk(size).Select(chunk => chunk.ToList())];

    private sealed record Cut(long First, long Stop, List<ExportableEvent> Events);

    /// <summary>An fsync that fails once on demand.</summary>
    private sealed class FailingDisk
    {
        public volatile bool FailNext;

        public void Flush(SafeFileHandle file)
        {
            if (FailNext)
            {
                FailNext = false;
                throw new IOException("No space left on device");
            }

            RandomAccess.FlushToDisk(file);
        }
    }
}

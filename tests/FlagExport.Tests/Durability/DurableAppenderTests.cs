using FlagExport.Durability;
using FlagExport.Tests.Exporters;

namespace FlagExport.Tests.Durability;

/// <summary>The library's way into the durable buffer: a batch of added events, whatever its size, lands in the log once.</summary>
public sealed class DurableAppenderTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ExportAsync_BatchLargerThanOneAppendCanTake_IsAppendedInSlices_EachEventOnce()
    {
        // 4 MiB hold the batch (3.9 MB), but one append takes at most 4 MiB less the active segment (512 KiB).
        await using DurableEventStore store = DurableEventStore.Open(Path.Combine(_folder.Path, "buffer"), 4L << 20);
        _ = store.OpenCursor("x", EventType.Feature);
        store.AllCursorsOpened();
        FeatureEvent[] events = [.. Enumerable.Range(0, 1_900).Select(i => Event(i, valueLength: 2_000))];
        var batch = new ExportBatch(events);

        await new DurableAppender(store).ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.True(events.Length * 2_000L > store.MaxAppendBytes, "the batch must not fit one append");
        using SegmentLogReader reader = store.Log.OpenReader(0);
        var userKeys = new List<string>();
        while (reader.NextPosition < store.DurablePosition && reader.TryRead(out _, out byte tag, out ReadOnlySpan<byte> payload))
        {
            userKeys.Add(((FeatureEvent)EventRecordCodec.Read(tag, payload)).UserKey);
        }

        Assert.Equal(events.Select(e => e.UserKey), userKeys);
    }

    [Fact]
    public async Task ExportAsync_OneEventLargerThanAnyAppend_IsAPermanentFailure()
    {
        await using DurableEventStore store = DurableEventStore.Open(Path.Combine(_folder.Path, "buffer"), DurableBufferOptions.MinMaxBufferBytes);

        var error = await Assert.ThrowsAsync<DurableRequestTooLargeException>(
            () => new DurableAppender(store).ExportAsync(new ExportBatch([Event(0, valueLength: 2_000_000)]), TestContext.Current.CancellationToken));

        Assert.True(((IExportFailure)error).IsPermanent);
        Assert.Equal(0, store.DurablePosition);
    }

    private static FeatureEvent Event(int i, int valueLength) => new()
    {
        UserKey = $"user-{i}", Key = "flag", Variation = "on", CreationDate = 1_700_000_000, Value = new string('v', valueLength),
    };
}

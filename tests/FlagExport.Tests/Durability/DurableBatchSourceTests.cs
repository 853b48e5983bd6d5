using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.Tests.Durability;

/// <summary>The durable batch source driven as the worker drives it, without a worker: what it records in the cursor and when.</summary>
public sealed class DurableBatchSourceTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string BufferDirectory => Path.Combine(_folder.Path, "buffer");

    [Fact]
    public async Task Take_SavesTheBatchBeforeItsAttempt_AndAfterARestartTheSameBatchIsCutAgain()
    {
        string id;
        await using (DurableEventStore store = await OpenWithEventsAsync(5))
        {
            DurableBatchSource source = Create(store, NullLogger.Instance);
            Assert.Equal(5, source.Sequence);

            var batch = new List<ExportableEvent>();
            BatchState state = source.Take(0, 3, batch, long.MaxValue);
            id = state.Id;
            Assert.Equal(3, state.EndPosition);
            Assert.Equal([0L, 1, 2], batch.Select(e => e.CreationDate));
        }

        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes))
        {
            DurableBatchSource source = Create(store, NullLogger.Instance);
            Assert.Equal(0, source.Retired);

            var batch = new List<ExportableEvent>();
            BatchState state = source.Take(0, 5, batch, long.MaxValue); // asks for more: the saved batch wins
            Assert.Equal(id, state.Id);
            Assert.Equal([0L, 1, 2], batch.Select(e => e.CreationDate));

            source.Commit(state.EndPosition);
            source.Retire(state.EndPosition);
            Assert.Equal(3, source.Retired);
            Assert.Equal(2, source.Sequence - source.Retired);
        }

        await using (DurableEventStore store = DurableEventStore.Open(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes))
        {
            Assert.Equal(3, Create(store, NullLogger.Instance).Retired); // committed: not written again
        }
    }

    [Fact]
    public async Task Abandon_AtStop_LosesNothing_AndSaysTheEventsAreLeftInTheBuffer()
    {
        await using DurableEventStore store = await OpenWithEventsAsync(4);
        var logger = new FakeLogger();
        DurableBatchSource source = Create(store, logger);

        Assert.Equal(0, source.Abandon(from: 0, count: 4));
        Assert.Equal(0, source.DroppedCount);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == Log.Ids.EventsLeftInBuffer);
    }

    private async Task<DurableEventStore> OpenWithEventsAsync(int count)
    {
        DurableEventStore store = DurableEventStore.Open(BufferDirectory, DurableBufferOptions.MinMaxBufferBytes);
        _ = store.OpenCursor("t"); // before the events: a new exporter takes those acknowledged from then on
        Assert.True(store.TryAppend([.. Enumerable.Range(0, count).Select(i => (ExportableEvent)TestEvents.Feature(i))], out long end));
        await store.WaitForDurableAsync(end, TestContext.Current.CancellationToken);
        return store;
    }

    private static DurableBatchSource Create(DurableEventStore store, Microsoft.Extensions.Logging.ILogger logger)
    {
        ExporterCursor cursor = store.OpenCursor("t");
        var durable = new DurableSource(store, cursor, new DurableEventReader(store.Log, cursor.Committed, EventType.Feature, "t", logger));
        return new DurableBatchSource("t", new DataExporterOptions(), durable, new WorkerSignal(), logger);
    }
}

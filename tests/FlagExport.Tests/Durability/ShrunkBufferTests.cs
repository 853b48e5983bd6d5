using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.Tests.Durability;

/// <summary>A buffer reopened with a capacity below what it already holds recovers once the held events are exported.</summary>
public sealed class ShrunkBufferTests : IDisposable
{
    private const long LargeMaxBytes = 10L * 1024 * 1024 * 1024; // segments of 64 MiB: everything below lands in one
    private const long SmallMaxBytes = DurableBufferOptions.MinMaxBufferBytes;

    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string BufferDirectory => Path.Combine(_folder.Path, "buffer");

    [Fact]
    public async Task Reopen_WithMaxBytesBelowTheHeldSegment_RefusesUntilEverythingIsExportedThenTakesEventsAgain()
    {
        ExportableEvent[] events = [.. Enumerable.Range(0, 1000).Select(i => (ExportableEvent)TestEvents.Feature(i))];
        long appended = 0;
        await using (DurableEventStore large = DurableEventStore.Open(BufferDirectory, LargeMaxBytes))
        {
            _ = large.OpenCursor("memory");
            large.AllCursorsOpened();
            while (large.SizeBytes <= 3 * SmallMaxBytes)
            {
                Assert.True(large.TryAppend(events, out long end));
                await large.WaitForDurableAsync(end, TestContext.Current.CancellationToken);
                appended += events.Length;
            }
        }

        Assert.Single(Directory.GetFiles(Path.Combine(BufferDirectory, "log"), "*.seg")); // one segment, never sealed

        var logger = new FakeLogger();
        await using DurableEventStore small = DurableEventStore.Open(BufferDirectory, SmallMaxBytes, logger);
        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "BufferOverCapacity");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains($"holds {small.SizeBytes} bytes", warning.Message, StringComparison.Ordinal);
        Assert.Contains($"maxBufferBytes = {SmallMaxBytes}", warning.Message, StringComparison.Ordinal);

        ExporterCursor cursor = small.OpenCursor("memory");
        small.AllCursorsOpened();
        Assert.False(small.TryAppend(events, out _)); // over capacity: refused until the held events are exported

        // What the exporter does: read everything it owes, write it, commit its cursor and free what no exporter needs.
        var read = new List<ExportableEvent>();
        using (var reader = new DurableEventReader(small.Log, cursor.Committed, EventType.Feature, "memory", NullLogger.Instance))
        {
            reader.ReadRange(cursor.Committed, small.DurablePosition, read);
        }

        Assert.Equal(appended, read.Count);
        cursor.Commit(small.DurablePosition);
        small.Release();

        Assert.True(small.SizeBytes <= SmallMaxBytes / 4, $"{small.SizeBytes} bytes still held with every event exported");
        Assert.True(small.TryAppend(events, out long next));
        await small.WaitForDurableAsync(next, TestContext.Current.CancellationToken);
        Assert.Equal(appended + events.Length, next); // positions go on after the exported ones, none reused
    }
}

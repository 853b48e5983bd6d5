using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using Microsoft.Extensions.Logging.Testing;
using static FlagExport.Tests.Durability.LogTestHelpers;

namespace FlagExport.Tests.Durability;

public sealed class SegmentLogTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Appended_records_read_back_and_survive_reopening()
    {
        using var dir = new TempDirectory();
        List<TestRecord> written;
        await using (SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments()))
        {
            written = Append(log, Enumerable.Range(0, 100).Select(i => i % 37));
            await log.FlushAsync(Token);
            Assert.Equal(100, log.DurablePosition);
            AssertSame(written, ReadAll(log));
            AssertSame(written[40..], ReadAll(log, 40));
            Assert.True(SegmentFiles(dir.Path).Length > 3);
        }

        await using (SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments()))
        {
            Assert.Equal(0, log.StartPosition);
            Assert.Equal(100, log.EndPosition);
            Assert.Equal(100, log.DurablePosition);
            AssertSame(written, ReadAll(log));

            written.AddRange(Append(log, [5, 6, 7]));
            await log.FlushAsync(Token);
        }

        await using (SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments()))
        {
            Assert.Equal(103, log.EndPosition);
            AssertSame(written, ReadAll(log));
        }
    }

    [Fact]
    public async Task Overlapping_waiters_share_fsyncs()
    {
        using var dir = new TempDirectory();
        await using SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions());
        const int Tasks = 16;
        const int AppendsPerTask = 100;
        byte[] payload = new byte[300];

        // Rounds of 16 writers that each append a record and wait for it: the waits of a round overlap whatever the
        // scheduler does (the appends take microseconds, an fsync milliseconds), so they must share fsyncs.
        for (int round = 0; round < AppendsPerTask; round++)
        {
            var waits = new Task[Tasks];
            for (int writer = 0; writer < Tasks; writer++)
            {
                Assert.True(log.TryAppend(1, payload, out long position));
                waits[writer] = log.WaitForDurableAsync(position + 1, Token).AsTask();
            }

            await Task.WhenAll(waits);
        }

        Assert.Equal(Tasks * AppendsPerTask, log.DurablePosition);
        // Each task waits for its own record, so without group commit there would be one fsync per append.
        Assert.True(log.FsyncCount * 3 < Tasks * AppendsPerTask, $"{log.FsyncCount} fsyncs for {Tasks * AppendsPerTask} appends");
    }

    [Fact]
    public async Task A_full_log_refuses_records_and_keeps_the_appended_ones()
    {
        using var dir = new TempDirectory();
        List<TestRecord> written = [];
        await using (SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(segmentBytes: 200, maxBytes: 1000)))
        {
            while (true)
            {
                TestRecord record = TestRecord.For(log.EndPosition, 40);
                if (!log.TryAppend(record.Tag, record.Payload, out long position))
                {
                    Assert.Equal(-1, position);
                    break;
                }

                written.Add(record);
            }

            Assert.InRange(log.SizeBytes, 1000 - 49 - 20, 1000);
            await log.FlushAsync(Token);
            Assert.False(log.TryAppend(0, new byte[40], out _));
            Assert.True(log.TryAppend(0, [], out _) || log.SizeBytes + 9 > 1000);
        }

        await using (SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(segmentBytes: 200, maxBytes: 1000)))
        {
            List<TestRecord> read = ReadAll(log);
            AssertSame(written, read[..written.Count]);

            log.ReleaseBefore(log.EndPosition);
            Assert.True(log.TryAppend(0, new byte[40], out _), "released segments make room again");
        }
    }

    [Fact]
    public async Task ReleaseBefore_deletes_only_whole_consumed_segments()
    {
        using var dir = new TempDirectory();
        await using SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(segmentBytes: 20 + (3 * 59)));
        List<TestRecord> written = Append(log, Enumerable.Repeat(50, 12)); // 3 records per segment: 4 segments
        await log.FlushAsync(Token);
        Assert.Equal(4, SegmentFiles(dir.Path).Length);
        long sizeBefore = log.SizeBytes;

        log.ReleaseBefore(5); // segment 0 (positions 0-2) is consumed; segment 1 (3-5) still holds position 5
        Assert.Equal(["00000000000000000003.seg", "00000000000000000006.seg", "00000000000000000009.seg"],
            SegmentFiles(dir.Path).Select(Path.GetFileName));
        Assert.Equal(3, log.StartPosition);
        Assert.Equal(sizeBefore - (20 + (3 * 59)), log.SizeBytes);
        AssertSame(written[3..], ReadAll(log, 0));

        log.ReleaseBefore(6);
        Assert.Equal(6, log.StartPosition);

        log.ReleaseBefore(long.MaxValue); // the active segment stays
        Assert.Equal(["00000000000000000009.seg"], SegmentFiles(dir.Path).Select(Path.GetFileName));
        AssertSame(written[9..], ReadAll(log, 0));
    }

    [Fact]
    public async Task A_record_larger_than_a_segment_gets_a_segment_of_its_own()
    {
        using var dir = new TempDirectory();
        await using SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(segmentBytes: 100));
        List<TestRecord> written = Append(log, [10, 500, 10]);
        await log.FlushAsync(Token);

        Assert.Equal(3, SegmentFiles(dir.Path).Length);
        Assert.Equal(20 + 9 + 500, new FileInfo(SegmentFiles(dir.Path)[1]).Length);
        AssertSame(written, ReadAll(log));
    }

    [Fact]
    public async Task A_reader_follows_appends_as_they_become_durable()
    {
        using var dir = new TempDirectory();
        await using SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(segmentBytes: 1000));
        const int Count = 2000;
        Task<List<TestRecord>> consumer = Task.Run(async () =>
        {
            var read = new List<TestRecord>();
            using SegmentLogReader reader = log.OpenReader(0);
            while (read.Count < Count)
            {
                if (reader.TryRead(out long position, out byte tag, out ReadOnlySpan<byte> payload))
                {
                    Assert.True(position < log.DurablePosition, "only durable records are read");
                    read.Add(new TestRecord(position, tag, payload.ToArray()));
                }
                else
                {
                    await log.WaitForDataAsync(reader.NextPosition, Token);
                }
            }

            return read;
        }, Token);

        List<TestRecord> written = [];
        for (int i = 0; i < Count; i++)
        {
            written.AddRange(Append(log, [i % 50]));
            if (i % 100 == 0)
            {
                await log.WaitForDurableAsync(log.EndPosition, Token);
            }
        }

        AssertSame(written, await consumer.WaitAsync(TimeSpan.FromSeconds(30), Token));
    }

    [Fact]
    public async Task Appending_allocates_nothing_once_warm()
    {
        using var dir = new TempDirectory();
        await using SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions());
        byte[] payload = new byte[300];
        for (int round = 0; round < 4; round++)
        {
            for (int i = 0; i < 1000; i++)
            {
                Assert.True(log.TryAppend(1, payload, out _));
            }

            await log.FlushAsync(Token);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 500; i++)
        {
            log.TryAppend(1, payload, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task A_second_log_on_the_same_directory_is_refused()
    {
        using var dir = new TempDirectory();
        await using SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions());
        DurableBufferLockedException refused = Assert.Throws<DurableBufferLockedException>(() => SegmentLog.Open(dir.Path, new SegmentLogOptions()));
        Assert.Equal(dir.Path, refused.Directory);
    }

    [Fact]
    public async Task Waiting_is_cancellable_and_positions_beyond_the_end_are_refused()
    {
        using var dir = new TempDirectory();
        await using SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await log.WaitForDurableAsync(1, Token));

        using var cts = new CancellationTokenSource();
        Task waiting = log.WaitForDataAsync(0, cts.Token);
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task After_disposal_appends_are_refused_and_data_waiters_end()
    {
        using var dir = new TempDirectory();
        SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions());
        Assert.True(log.TryAppend(0, [1, 2, 3], out _));
        Task waiting = log.WaitForDataAsync(5, Token);
        await log.DisposeAsync();

        Assert.Equal(1, log.DurablePosition);
        Assert.False(log.TryAppend(0, [1], out _));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10), Token));
    }
}

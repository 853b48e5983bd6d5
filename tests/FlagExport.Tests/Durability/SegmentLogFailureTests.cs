using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Win32.SafeHandles;
using static FlagExport.Tests.Durability.LogTestHelpers;

namespace FlagExport.Tests.Durability;

/// <summary>
/// A group commit that fails (a full disk, an fsync error, a deleted folder) keeps nothing of its records, refuses their
/// waiters, and does not stop the log: the next write tries the disk again.
/// </summary>
public sealed class SegmentLogFailureTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_failed_fsync_refuses_the_group_cuts_it_off_the_disk_at_once_and_the_next_append_is_kept()
    {
        using var dir = new TempDirectory();
        var disk = new FailingDisk();
        var logger = new FakeLogger();
        await using (SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions { FlushToDisk = disk.Flush }, logger))
        {
            List<TestRecord> kept = Append(log, [10]);
            await log.FlushAsync(Token);
            long durableLength = new FileInfo(Assert.Single(SegmentFiles(dir.Path))).Length;

            disk.Fail(afterSuccesses: 0, times: 1);
            Assert.True(log.TryAppendBatch([1, 2, 3], [5, 6, 7], new byte[18], out long end));
            await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(end, Token));

            // Cut at once, without a restart: the file is back to its durable length, a reader sees nothing new.
            Assert.Equal(durableLength, new FileInfo(Assert.Single(SegmentFiles(dir.Path))).Length);
            Assert.Equal(1, log.DurablePosition);
            AssertSame(kept, ReadAll(log));
            Assert.Same(disk.Error, log.AppendError);
            Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == DurabilityLog.Ids.FlushFailed);

            // The refused positions are never used again: a late waiter for them is still refused.
            List<TestRecord> later = Append(log, [4, 8]);
            Assert.Equal(4, later[0].Position);
            await log.FlushAsync(Token);
            await log.WaitForDurableAsync(6, Token);
            await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(end, Token));
            Assert.Null(log.AppendError);
            kept.AddRange(later);
            AssertSame(kept, ReadAll(log));
            Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == DurabilityLog.Ids.AppendsResumed);
        }

        await using (SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions()))
        {
            Assert.Equal(6, log.EndPosition);
            AssertSame([TestRecord.For(0, 10), TestRecord.For(4, 4), TestRecord.For(5, 8)], ReadAll(log));
        }
    }

    [Fact]
    public async Task A_group_that_fails_after_a_roll_leaves_no_record_visible_and_no_new_segment()
    {
        using var dir = new TempDirectory();
        var disk = new FailingDisk();
        await using SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions { SegmentBytes = 128, FlushToDisk = disk.Flush });
        List<TestRecord> kept = Append(log, [40]);
        await log.FlushAsync(Token);
        string first = Assert.Single(SegmentFiles(dir.Path));
        long durableLength = new FileInfo(first).Length;

        // Four records of 60 bytes roll twice: the first segment's part is fsynced before the next segment is created,
        // and only the last fsync fails. No reader may see the part before the roll.
        disk.Fail(afterSuccesses: 1, times: 1);
        Assert.True(log.TryAppendBatch([1, 2, 3, 4], [60, 60, 60, 60], new byte[240], out long end));
        await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(end, Token));

        Assert.Equal(1, log.DurablePosition);
        AssertSame(kept, ReadAll(log));
        Assert.Equal([first], SegmentFiles(dir.Path));
        Assert.Equal(durableLength, new FileInfo(first).Length);

        kept.AddRange(Append(log, [7]));
        await log.FlushAsync(Token);
        AssertSame(kept, ReadAll(log));
        Assert.Equal(new FileInfo(first).Length + new FileInfo(SegmentFiles(dir.Path)[1]).Length, log.SizeBytes);
    }

    [Fact]
    public async Task Under_concurrent_appends_and_intermittent_failures_exactly_the_acknowledged_batches_are_read_and_survive_reopening()
    {
        using var dir = new TempDirectory();
        var disk = new FailingDisk { EveryThird = true };
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<long>();
        int refusedCount = 0;
        SegmentLogOptions options = new() { SegmentBytes = 512, FlushToDisk = disk.Flush };
        await using (SegmentLog log = SegmentLog.Open(dir.Path, options))
        {
            // Each batch is three records whose payloads carry the batch number: a batch is found whole or not at all.
            Task[] appenders = [.. Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
            {
                byte[] payloads = new byte[24];
                for (int i = 0; i < 150; i++)
                {
                    long batch = (worker * 1000) + i;
                    for (int r = 0; r < 3; r++)
                    {
                        BitConverter.TryWriteBytes(payloads.AsSpan(r * 8), batch);
                    }

                    Assert.True(log.TryAppendBatch([1, 1, 1], [8, 8, 8], payloads, out long end));
                    try
                    {
                        await log.WaitForDurableAsync(end, Token);
                        acknowledged.Add(batch);
                    }
                    catch (RecordsDiscardedException)
                    {
                        _ = Interlocked.Increment(ref refusedCount);
                    }
                }
            }, Token))];
            await Task.WhenAll(appenders);
            Assert.True(refusedCount > 0, "no group failed: the test proves nothing");
            AssertBatches(acknowledged, ReadAll(log));
        }

        await using (SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions { SegmentBytes = 512 }))
        {
            AssertBatches(acknowledged, ReadAll(log));
        }

        static void AssertBatches(IEnumerable<long> expected, List<TestRecord> records)
        {
            long[] batches = [.. records.Select(r => BitConverter.ToInt64(r.Payload))];
            Assert.Equal(expected.Order().SelectMany(b => new[] { b, b, b }), batches.Order());
            Assert.Equal(batches.Length, batches.Distinct().Count() * 3);
        }
    }

    [Fact]
    public async Task Without_appends_a_probe_every_RetryDelay_finds_the_disk_writable_again()
    {
        using var dir = new TempDirectory();
        var disk = new FailingDisk();
        var time = new FakeTimeProvider();
        TimeSpan retry = TimeSpan.FromSeconds(2);
        await using SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions { FlushToDisk = disk.Flush, RetryDelay = retry }, timeProvider: time);
        disk.Fail(afterSuccesses: 0, times: 1);
        Assert.True(log.TryAppend(1, [1, 2], out long position));
        await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(position + 1, Token));
        Assert.NotNull(log.AppendError);

        await WaitUntilAsync(() =>
        {
            time.Advance(retry);
            return log.AppendError is null;
        });
        Assert.Equal(1, log.DurablePosition); // past the discarded record: a gap readers skip
        Assert.Empty(ReadAll(log));
    }

    [Fact]
    public async Task An_append_whose_records_a_probe_took_before_its_wake_up_neither_throws_nor_makes_the_next_append_throw()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider();
        TimeSpan retry = TimeSpan.FromSeconds(2);
        using var disk = new GatedDisk();
        await using SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions { FlushToDisk = disk.Flush, RetryDelay = retry }, timeProvider: time);
        disk.FailNext = true;
        Assert.True(log.TryAppend(1, [1], out long failed));
        await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(failed + 1, Token));
        Assert.NotNull(log.AppendError); // the flusher now also wakes every RetryDelay on its own

        // Appender A is held after its locked section, before it wakes the flusher. Meanwhile the probe round takes A's
        // record and stays busy in an fsync, so A's wake-up is not consumed before appender B, which finds the flusher
        // no longer requested, wakes it too.
        // The clock is advanced from another thread: the probe round may run on the thread that fires its timer.
        bool probeTookIt = false;
        Task advancing = Task.CompletedTask;
        log.BeforeFlusherSignal = () =>
        {
            log.BeforeFlusherSignal = null;
            disk.BlockNext = true;
            advancing = Task.Run(() =>
            {
                while (!disk.Blocked.IsSet && !Token.IsCancellationRequested)
                {
                    time.Advance(retry);
                }
            });
            probeTookIt = disk.Blocked.Wait(TimeSpan.FromSeconds(20));
        };
        Exception? a = Record.Exception(() => Assert.True(log.TryAppend(1, [2], out _)));
        Exception? b = Record.Exception(() => Assert.True(log.TryAppend(1, [3], out _)));
        disk.Release.Set();
        await advancing;

        Assert.True(probeTookIt, "The probe round did not start within 20 s.");
        Assert.Null(a);
        Assert.Null(b);
        await log.WaitForDurableAsync(failed + 3, Token);
        Assert.Equal([(byte)2, (byte)3], ReadAll(log).Select(r => r.Payload[0]));
    }

    [Fact]
    public async Task A_probe_whose_new_segment_could_not_be_written_leaves_no_file_behind_and_the_next_probe_succeeds()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider();
        TimeSpan retry = TimeSpan.FromSeconds(2);
        var disk = new FailingDisk();
        await using SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions { FlushToDisk = disk.Flush, RetryDelay = retry }, timeProvider: time);

        // The group's fsync fails, the cut succeeds, then the probe's new segment fails at its header's fsync.
        disk.Script(true, false, true);
        Assert.True(log.TryAppend(1, [1, 2], out long position));
        await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(position + 1, Token));
        await WaitUntilAsync(() =>
        {
            time.Advance(retry);
            return log.AppendError is null;
        });
        Assert.Equal(2, SegmentFiles(dir.Path).Length);
        Assert.True(log.TryAppend(1, [3], out position));
        await log.WaitForDurableAsync(position + 1, Token);
        Assert.Equal([1L], ReadAll(log).Select(r => r.Position));
    }

    [Fact]
    public async Task A_release_while_a_group_that_will_fail_is_in_flight_keeps_the_segment_the_log_falls_back_to()
    {
        using var dir = new TempDirectory();
        var disk = new FailingDisk();
        await using SegmentLog log = SegmentLog.Open(dir.Path, new SegmentLogOptions { FlushToDisk = disk.Flush });
        List<TestRecord> kept = Append(log, [10]);
        await log.FlushAsync(Token);
        disk.Script(true);
        Assert.True(log.TryAppend(1, [1], out long position));
        await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(position + 1, Token));

        // The next group starts a new segment (after the gap); every consumer claims to be past everything just before
        // the group's fsync fails. The sealed segment before it must stay: the log falls back to it.
        disk.Script(false, true);
        disk.BeforeFailure = () => log.ReleaseBefore(long.MaxValue);
        Assert.True(log.TryAppend(1, [2], out position));
        await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(position + 1, Token));
        disk.BeforeFailure = null;

        Assert.Equal(0, log.StartPosition);
        kept.AddRange(Append(log, [3]));
        await log.FlushAsync(Token);
        AssertSame(kept, ReadAll(log));
    }

    [Fact]
    public async Task A_deleted_folder_refuses_the_records_instead_of_acknowledging_them_into_an_unlinked_file()
    {
        using var dir = new TempDirectory();
        string logDirectory = Path.Combine(dir.Path, "log");
        await using SegmentLog log = SegmentLog.Open(logDirectory, new SegmentLogOptions());
        _ = Append(log, [10]);
        await log.FlushAsync(Token);

        Directory.Delete(logDirectory, recursive: true);
        Assert.True(log.TryAppend(1, [1, 2, 3], out long position));
        RecordsDiscardedException refused = await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(position + 1, Token));
        Assert.Contains("no longer exists", refused.Message, StringComparison.Ordinal);
        Assert.NotNull(log.AppendError);

        // It stays refused (the folder is not recreated behind the operator's back).
        Assert.True(log.TryAppend(1, [4], out position));
        _ = await Assert.ThrowsAsync<RecordsDiscardedException>(async () => await log.WaitForDurableAsync(position + 1, Token));
    }

    [Fact]
    public async Task A_store_request_larger_than_the_whole_buffer_is_refused_as_too_large_not_as_full()
    {
        using var dir = new TempDirectory();
        await using DurableEventStore store = DurableEventStore.Open(dir.Path, maxBytes: 1024 * 1024);
        var events = Enumerable.Range(0, 3000)
            .Select(i => (ExportableEvent)new FeatureEvent { CreationDate = 1, Key = "flag", UserKey = $"user-{i}-{new string('x', 400)}" })
            .ToList();
        DurableRequestTooLargeException refused = Assert.Throws<DurableRequestTooLargeException>(() => store.TryAppend(events, out _));
        Assert.Equal(1024 * 1024, refused.MaxBytes);
        Assert.Equal(store.MaxAppendBytes, refused.Limit);
        Assert.Contains($"at most {store.MaxAppendBytes} bytes, MaxBufferBytes (1048576) less the segment being written", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.Log.EndPosition);
        Assert.True(store.TryAppend([.. events.Take(10)], out long end));
        await store.WaitForDurableAsync(end, Token);
    }

    [Fact]
    public async Task A_store_request_that_fits_only_without_the_segment_being_written_is_refused_as_too_large()
    {
        // The segment being written is never released, so once it holds anything a request above MaxBufferBytes less
        // that segment could never fit: a 503 would make the client retry it for ever.
        using var dir = new TempDirectory();
        await using DurableEventStore store = DurableEventStore.Open(dir.Path, maxBytes: 1024 * 1024);
        Assert.True(store.TryAppend([new FeatureEvent { CreationDate = 1, Key = "flag", UserKey = "first" }], out long first));
        await store.WaitForDurableAsync(first, Token);
        var events = Enumerable.Range(0, 2300)
            .Select(i => (ExportableEvent)new FeatureEvent { CreationDate = 1, Key = "flag", UserKey = $"user-{i}-{new string('x', 400)}" })
            .ToList();

        DurableRequestTooLargeException refused = Assert.Throws<DurableRequestTooLargeException>(() => store.TryAppend(events, out _));

        Assert.Equal(1024 * 1024 - DurableEventStore.SegmentBytesFor(1024 * 1024) - (2 * SegmentFormat.HeaderSize), refused.Limit);
        Assert.InRange(refused.Bytes, refused.Limit + 1, store.MaxBytes - (2 * SegmentFormat.HeaderSize)); // below the old bound
        Assert.Equal(first, store.Log.EndPosition);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            try
            {
                await Task.Delay(10, timeout.Token);
            }
            catch (OperationCanceledException) when (!Token.IsCancellationRequested)
            {
                Assert.Fail("The log still reports an append error 20 s after the disk was healthy again.");
            }
        }
    }

    /// <summary>An fsync that fails on demand, as a full or broken disk does.</summary>
    /// <summary>An fsync that fails once, or blocks once until <see cref="Release"/> (setting <see cref="Blocked"/>).</summary>
    private sealed class GatedDisk : IDisposable
    {
        public volatile bool FailNext;
        public volatile bool BlockNext;

        public ManualResetEventSlim Blocked { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public void Dispose()
        {
            Blocked.Dispose();
            Release.Dispose(); // after the log: declared before it, so its flusher is done
        }

        public void Flush(SafeFileHandle file)
        {
            if (FailNext)
            {
                FailNext = false;
                throw new IOException("Input/output error");
            }

            if (BlockNext)
            {
                BlockNext = false;
                Blocked.Set();
                _ = Release.Wait(TimeSpan.FromSeconds(20));
            }

            RandomAccess.FlushToDisk(file);
        }
    }

    private sealed class FailingDisk
    {
        private readonly Lock _lock = new();
        private int _successes;
        private int _failures;
        private int _calls;

        public IOException Error { get; } = new("No space left on device");

        /// <summary>Lets <paramref name="afterSuccesses"/> fsyncs succeed, then fails the next <paramref name="times"/>.</summary>
        public void Fail(int afterSuccesses, int times)
        {
            lock (_lock)
            {
                (_successes, _failures) = (afterSuccesses, times);
            }
        }

        private readonly Queue<bool> _script = new();

        /// <summary>The next fsyncs fail (true) or succeed (false) in this order; the later ones succeed.</summary>
        public void Script(params bool[] failures)
        {
            lock (_lock)
            {
                foreach (bool failure in failures)
                {
                    _script.Enqueue(failure);
                }
            }
        }

        /// <summary>Runs just before a scripted failure is thrown, on the flusher.</summary>
        public Action? BeforeFailure { get; set; }

        /// <summary>Fails every third fsync, for ever.</summary>
        public bool EveryThird { get; init; }

        public void Flush(SafeFileHandle file)
        {
            lock (_lock)
            {
                if (_script.TryDequeue(out bool fail))
                {
                    if (fail)
                    {
                        BeforeFailure?.Invoke();
                        throw Error;
                    }
                }
                else if (EveryThird && ++_calls % 3 == 0)
                {
                    throw Error;
                }

                if (_successes > 0)
                {
                    _successes--;
                }
                else if (_failures > 0)
                {
                    _failures--;
                    throw Error;
                }
            }

            RandomAccess.FlushToDisk(file);
        }
    }
}

using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static FlagExport.Tests.Durability.LogTestHelpers;

namespace FlagExport.Tests.Durability;

public sealed class SegmentLogRecoveryTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<List<TestRecord>> WriteAsync(string directory, SegmentLogOptions options, IEnumerable<int> sizes)
    {
        await using SegmentLog log = SegmentLog.Open(directory, options);
        List<TestRecord> written = Append(log, sizes);
        await log.FlushAsync(Token);
        return written;
    }

    [Fact]
    public async Task A_last_segment_with_records_is_sealed_at_open_and_a_crash_after_that_or_while_starting_the_next_loses_nothing()
    {
        using var dir = new TempDirectory();
        List<TestRecord> written = await WriteAsync(dir.Path, SmallSegments(segmentBytes: 1 << 20), [3, 0, 17, 8, 25]);
        string first = Assert.Single(SegmentFiles(dir.Path));
        long firstLength = new FileInfo(first).Length;

        // Open and crash at once: the segment with records is left whole and appends would start the next one.
        await using (SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(segmentBytes: 1 << 20)))
        {
            AssertSame(written, ReadAll(log));
        }

        string[] files = SegmentFiles(dir.Path);
        Assert.Equal(2, files.Length);
        Assert.Equal(firstLength, new FileInfo(first).Length);
        Assert.EndsWith("00000000000000000005.seg", files[1], StringComparison.Ordinal);

        // A crash while creating the next segment: its torn header is deleted, and it is started again at the same position.
        await File.WriteAllBytesAsync(files[1], new byte[5], Token);
        await using (SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(segmentBytes: 1 << 20)))
        {
            AssertSame(written, ReadAll(log));
            Assert.Equal(files, SegmentFiles(dir.Path));

            // The empty segment is reused, not followed by another; positions go on and none is reused.
            written.AddRange(Append(log, [4, 9]));
            await log.FlushAsync(Token);
        }

        await using (SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(segmentBytes: 1 << 20)))
        {
            AssertSame(written, ReadAll(log));
            Assert.Equal(7, log.EndPosition);
            log.ReleaseBefore(5);
            Assert.Equal(5, log.StartPosition); // the first segment is sealed, so released once every consumer is past it
        }
    }

    [Fact]
    public async Task A_torn_last_record_is_cut_at_every_byte_offset()
    {
        using var dir = new TempDirectory();
        List<TestRecord> written = await WriteAsync(dir.Path, SmallSegments(segmentBytes: 1 << 20), [3, 0, 17, 8, 25]);
        string segment = Assert.Single(SegmentFiles(dir.Path));
        byte[] intact = await File.ReadAllBytesAsync(segment, Token);
        RecordExtent last = Extents(dir.Path)[^1];

        for (long cut = last.Start; cut < last.End; cut++)
        {
            await File.WriteAllBytesAsync(segment, intact.AsMemory(0, (int)cut).ToArray(), Token);
            foreach (string started in SegmentFiles(dir.Path).Where(f => f != segment))
            {
                File.Delete(started); // the segment the previous open started: the crash under test leaves the torn one last
            }

            var logger = new FakeLogger();
            await using (SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(segmentBytes: 1 << 20), logger))
            {
                AssertSame(written[..^1], ReadAll(log));
                Assert.Equal(written.Count - 1, log.EndPosition);
                Assert.Equal(last.Start, new FileInfo(segment).Length);

                FakeLogRecord[] warnings = [.. logger.Collector.GetSnapshot().Where(r => r.Level >= LogLevel.Warning)];
                if (cut == last.Start)
                {
                    Assert.Empty(warnings);
                }
                else
                {
                    FakeLogRecord warning = Assert.Single(warnings);
                    Assert.Equal(DurabilityLog.Ids.TornTailCut, warning.Id.Id);
                    Assert.Contains(segment, warning.Message, StringComparison.Ordinal);
                    Assert.Contains($"offset {last.Start}", warning.Message, StringComparison.Ordinal);
                    Assert.Contains($"cut {cut - last.Start} bytes", warning.Message, StringComparison.Ordinal);
                }
            }
        }
    }

    [Fact]
    public async Task A_corrupt_record_at_the_end_of_the_last_segment_is_cut_and_appending_continues()
    {
        using var dir = new TempDirectory();
        List<TestRecord> written = await WriteAsync(dir.Path, SmallSegments(), [10, 10, 10]);
        RecordExtent last = Extents(dir.Path)[^1];
        FlipByte(last.File, last.End - 1);

        await using SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments());
        AssertSame(written[..2], ReadAll(log));
        written = [.. written[..2], .. Append(log, [4])];
        await log.FlushAsync(Token);
        AssertSame(written, ReadAll(log));
    }

    [Theory]
    [InlineData(5)]   // a bit of the header's first position: header checksum fails
    [InlineData(40)]  // inside the first record
    [InlineData(-1)]  // the last byte of the segment
    public async Task A_damaged_middle_segment_is_quarantined_and_the_others_are_still_read(int offsetInSegment)
    {
        using var dir = new TempDirectory();
        SegmentLogOptions options = SmallSegments(segmentBytes: 20 + (3 * 59));
        List<TestRecord> written = await WriteAsync(dir.Path, options, Enumerable.Repeat(50, 12)); // segments at 0, 3, 6, 9
        string damaged = SegmentFiles(dir.Path)[1];
        FlipByte(damaged, offsetInSegment >= 0 ? offsetInSegment : new FileInfo(damaged).Length - 1);

        var logger = new FakeLogger();
        await using SegmentLog log = SegmentLog.Open(dir.Path, options, logger);

        AssertSame([.. written[..3], .. written[6..]], ReadAll(log));
        Assert.Equal(written[6..], ReadAll(log, 3), (a, b) => a.SameAs(b));
        Assert.Equal(12, log.EndPosition);
        Assert.False(File.Exists(damaged));
        Assert.True(File.Exists(Path.Combine(dir.Path, SegmentLog.QuarantineDirectoryName, Path.GetFileName(damaged))));
        FakeLogRecord error = Assert.Single(logger.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning);
        Assert.Equal(DurabilityLog.Ids.SegmentQuarantined, error.Id.Id);
        Assert.Equal(LogLevel.Error, error.Level);

        Assert.True(log.TryAppend(0, [1], out long position));
        Assert.Equal(12, position);
    }

    [Fact]
    public async Task Garbage_in_place_of_a_segment_does_not_stop_start_up()
    {
        using var dir = new TempDirectory();
        SegmentLogOptions options = SmallSegments(segmentBytes: 20 + (3 * 59));
        List<TestRecord> written = await WriteAsync(dir.Path, options, Enumerable.Repeat(50, 9)); // segments at 0, 3, 6
        string[] files = SegmentFiles(dir.Path);
        await File.WriteAllBytesAsync(files[0], [.. Enumerable.Range(0, 300).Select(i => (byte)i)], Token);
        await File.WriteAllBytesAsync(files[1], [], Token);

        await using SegmentLog log = SegmentLog.Open(dir.Path, options);
        Assert.Equal(6, log.StartPosition);
        AssertSame(written[6..], ReadAll(log));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir.Path, SegmentLog.QuarantineDirectoryName)).Length);
    }

    [Fact]
    public async Task A_damaged_last_segment_header_never_lets_positions_be_reused()
    {
        using var dir = new TempDirectory();
        SegmentLogOptions options = SmallSegments(segmentBytes: 20 + (3 * 59));
        List<TestRecord> written = await WriteAsync(dir.Path, options, Enumerable.Repeat(50, 8)); // segments at 0, 3, 6 (2 records)
        FlipByte(SegmentFiles(dir.Path)[^1], 0);

        await using SegmentLog log = SegmentLog.Open(dir.Path, options);
        AssertSame(written[..6], ReadAll(log));
        Assert.True(log.EndPosition >= 8, $"positions 6 and 7 may be committed by a consumer; the log restarts at {log.EndPosition}");
    }

    [Fact]
    public async Task A_segment_torn_while_being_created_is_deleted()
    {
        using var dir = new TempDirectory();
        List<TestRecord> written = await WriteAsync(dir.Path, SmallSegments(), [10, 10]);
        string torn = Path.Combine(dir.Path, SegmentFormat.FileName(2));
        await File.WriteAllBytesAsync(torn, "FXLOG0"u8.ToArray(), Token);

        var logger = new FakeLogger();
        await using SegmentLog log = SegmentLog.Open(dir.Path, SmallSegments(), logger);
        AssertSame(written, ReadAll(log));
        Assert.Equal(2, log.EndPosition);
        Assert.Equal(DurabilityLog.Ids.TornSegmentDeleted, Assert.Single(logger.Collector.GetSnapshot()).Id.Id);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, SegmentLog.QuarantineDirectoryName)));
    }

    [Fact]
    public async Task Releasing_everything_and_reopening_keeps_positions_going()
    {
        using var dir = new TempDirectory();
        SegmentLogOptions options = SmallSegments(segmentBytes: 20 + (3 * 59));
        await using (SegmentLog log = SegmentLog.Open(dir.Path, options))
        {
            Append(log, Enumerable.Repeat(50, 7));
            await log.FlushAsync(Token);
            log.ReleaseBefore(long.MaxValue);
        }

        await using (SegmentLog log = SegmentLog.Open(dir.Path, options))
        {
            Assert.Equal(6, log.StartPosition);
            Assert.Equal(7, log.EndPosition);
            Assert.True(log.TryAppend(0, [], out long position));
            Assert.Equal(7, position);
        }
    }

    private static void FlipByte(string file, long offset)
    {
        using FileStream stream = File.Open(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        int value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ 0x10));
    }
}

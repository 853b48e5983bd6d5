using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FsCheck;
using FsCheck.Xunit;
using static FlagExport.Tests.Durability.LogTestHelpers;

namespace FlagExport.Tests.Durability;

/// <summary>
/// Crash and damage anywhere: the segment files are seen as one byte string (in position order), which is cut or has one
/// byte changed at an arbitrary offset. Reopening must never throw and never return an altered record.
/// </summary>
public sealed class SegmentLogCrashProperties
{
    private static readonly SegmentLogOptions Options = SmallSegments(segmentBytes: 160);

    [Property(MaxTest = 100, QuietOnSuccess = true)]
    public void Reopening_after_a_cut_reads_back_exactly_the_complete_records_before_it(int[] sizes, NonNegativeInt crash) =>
        RunSynchronously(CutAsync(sizes, crash));

    [Property(MaxTest = 100, QuietOnSuccess = true)]
    public void Reopening_after_a_changed_byte_reads_back_only_unaltered_records(int[] sizes, NonNegativeInt crash, byte mask) =>
        RunSynchronously(ChangeByteAsync(sizes, crash, mask));

    /// <summary>FsCheck does not await a property that returns a task, so its assertions would go unseen.</summary>
    private static void RunSynchronously(Task property) => property.GetAwaiter().GetResult();

    private static async Task CutAsync(int[] sizes, NonNegativeInt crash)
    {
        using var dir = new TempDirectory();
        (List<TestRecord> written, List<RecordExtent> extents, List<(string File, long Start, long Length)> files) = await WriteAsync(dir.Path, sizes);
        long total = files.Sum(f => f.Length);
        long cut = Spread(crash, total);
        foreach ((string file, long start, long length) in files)
        {
            if (start >= cut)
            {
                File.Delete(file);
            }
            else if (start + length > cut)
            {
                File.SetAttributes(file, FileAttributes.Normal);
                using FileStream stream = File.Open(file, FileMode.Open);
                stream.SetLength(cut - start);
            }
        }

        // A record survives when all its bytes are before the cut.
        int survivors = extents.Count(e => GlobalEnd(files, e) <= cut);
        await using SegmentLog log = SegmentLog.Open(dir.Path, Options);
        AssertSame(written[..survivors], ReadAll(log));
        Assert.True(log.TryAppend(0, [7], out long position));
        Assert.Equal(survivors, position);
    }

    private static async Task ChangeByteAsync(int[] sizes, NonNegativeInt crash, byte mask)
    {
        using var dir = new TempDirectory();
        (List<TestRecord> written, List<RecordExtent> extents, List<(string File, long Start, long Length)> files) = await WriteAsync(dir.Path, sizes);
        long offset = Spread(crash, files.Sum(f => f.Length));
        (string damaged, long damagedStart, _) = files.Last(f => f.Start <= offset);
        using (FileStream stream = File.Open(damaged, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = offset - damagedStart;
            int value = stream.ReadByte();
            stream.Position = offset - damagedStart;
            stream.WriteByte((byte)(value ^ (mask | 1)));
        }

        await using SegmentLog log = SegmentLog.Open(dir.Path, Options);
        List<TestRecord> read = ReadAll(log);
        foreach (TestRecord record in read)
        {
            Assert.True(record.SameAs(written[(int)record.Position]), $"record {record.Position} was altered");
        }

        // Records of undamaged segments are all there; of the damaged one, at most those before the changed byte.
        var readPositions = read.Select(r => r.Position).ToHashSet();
        foreach (RecordExtent extent in extents)
        {
            if (extent.File != damaged)
            {
                Assert.Contains(extent.Position, readPositions);
            }
            else if (readPositions.Contains(extent.Position))
            {
                Assert.True(extent.End <= offset - damagedStart, $"record {extent.Position} holds the changed byte");
            }
        }

        Assert.Equal(read.Select(r => r.Position).Order(), read.Select(r => r.Position));
        Assert.True(log.TryAppend(0, [7], out long position));
        Assert.True(position > (read.Count == 0 ? -1 : read[^1].Position), "a new record never takes a position already read");
    }

    /// <summary>
    /// An offset in [0, total): FsCheck's integers stay within ±100 (its size), which would only ever hit the first
    /// segment, so they are spread over the whole range by a multiplicative hash.
    /// </summary>
    private static long Spread(NonNegativeInt crash, long total) => (long)(((ulong)crash.Get * 0x9E3779B97F4A7C15UL) % (ulong)total);

    private static long GlobalEnd(List<(string File, long Start, long Length)> files, RecordExtent extent) =>
        files.First(f => f.File == extent.File).Start + extent.End;

    private static async Task<(List<TestRecord>, List<RecordExtent>, List<(string File, long Start, long Length)>)> WriteAsync(string directory, int[] sizes)
    {
        List<TestRecord> written;
        await using (SegmentLog log = SegmentLog.Open(directory, Options))
        {
            written = Append(log, sizes.Take(30).Select(s => Math.Abs(s % 70)).Append(1));
            await log.FlushAsync(TestContext.Current.CancellationToken);
        }

        var files = new List<(string, long, long)>();
        long start = 0;
        foreach (string file in SegmentFiles(directory))
        {
            long length = new FileInfo(file).Length;
            files.Add((file, start, length));
            start += length;
        }

        return (written, Extents(directory), files);
    }
}

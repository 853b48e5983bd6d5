using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Numerics;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector process starting on a buffer folder that a crash or the disk damaged: a torn tail of the last segment
/// is cut, a damaged segment before it is moved to <c>log/quarantine/</c>; either way the collector logs it, answers
/// <c>/health</c> and exports every event the damage did not take, once.
/// </summary>
/// <remarks>
/// The first process is killed before any batch is cut (an hour's flush interval, no size trigger), so that what the
/// second one exports depends only on the log. The collector writes 64 MiB segments, more than a test posts, so the
/// several segments of the second test are made by splitting the one segment at record boundaries, with the layout the
/// format defines (header: magic, first position, CRC-32C; record: length, CRC-32C, tag, payload).
/// </remarks>
public sealed class CollectorBufferStartupTests : IDisposable
{
    private const int Events = 1_000;
    private const int RequestSize = 50;
    private const int SegmentHeaderSize = 20;
    private const int RecordHeaderSize = 9;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task TornTail_IsCut_AtStartUp_AndEveryEventBeforeItIsExportedOnce()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("torn-tail");
        try
        {
            string[] keys = await BufferEventsAndKillAsync(s3, prefix);
            string segment = Assert.Single(DurableCollector.Segments(_directory));
            // A crash in the middle of writing the last record: its last bytes never reached the disk.
            using (FileStream file = File.Open(segment, FileMode.Open, FileAccess.ReadWrite))
            {
                file.SetLength(file.Length - 3);
            }

            SortedDictionary<string, string[]> objects = await RestartAndStopAsync(s3, prefix, "ends in an incomplete or corrupt record");

            string[] kept = keys[..^1];
            DurableCollector.AssertExactlyOnce(objects, kept, kept.ToHashSet(StringComparer.Ordinal));
        }
        finally
        {
            await s3.DeleteAllAsync(prefix);
        }
    }

    [Fact]
    public async Task DamagedMiddleSegment_IsQuarantined_AtStartUp_AndTheOtherSegmentsAreExportedOnce()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("quarantine");
        try
        {
            string[] keys = await BufferEventsAndKillAsync(s3, prefix);
            string segment = Assert.Single(DurableCollector.Segments(_directory));
            const int SplitA = 300, SplitB = 600;
            string[] parts = SplitSegment(segment, SplitA, SplitB);
            // One flipped byte in a record of the middle segment: its checksum no longer matches.
            byte[] middle = await File.ReadAllBytesAsync(parts[1], TestContext.Current.CancellationToken);
            middle[middle.Length / 2] ^= 0xFF;
            await File.WriteAllBytesAsync(parts[1], middle, TestContext.Current.CancellationToken);

            SortedDictionary<string, string[]> objects = await RestartAndStopAsync(s3, prefix, "is damaged");

            string quarantined = Path.Combine(DurableCollector.BufferDirectory(_directory), "log", "quarantine", Path.GetFileName(parts[1]));
            Assert.True(File.Exists(quarantined), $"{quarantined} is missing");
            string[] kept = [.. keys[..SplitA], .. keys[SplitB..]];
            DurableCollector.AssertExactlyOnce(objects, kept, kept.ToHashSet(StringComparer.Ordinal));
        }
        finally
        {
            await s3.DeleteAllAsync(prefix);
        }
    }

    /// <summary>Posts <see cref="Events"/> events (each answered 200: on disk), in order, then kills the process.</summary>
    /// <returns>The user keys in the order of the log.</returns>
    private async Task<string[]> BufferEventsAndKillAsync(S3Server s3, string prefix)
    {
        await File.WriteAllTextAsync(
            _directory.Combine("collector.yaml"),
            DurableCollector.Yaml(_directory, s3, new Uri(s3.Endpoint), prefix, flushIntervalMs: 3_600_000, maxEventInMemory: 100_000),
            TestContext.Current.CancellationToken);
        string[] keys = DurableCollector.Keys("startup", 0, Events);
        using CollectorProcess first = DurableCollector.Start(_directory);
        string address = await first.WaitUntilListeningAsync();
        using var client = new HttpClient();
        for (int i = 0; i < Events; i += RequestSize)
        {
            using HttpResponseMessage response = await DurableCollector.PostAsync(client, address, keys[i..(i + RequestSize)], TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        first.Kill();
        Assert.Empty(await s3.ReadAllAsync(prefix));
        return keys;
    }

    /// <summary>
    /// Starts the collector on the damaged folder, checks the log line and <c>/health</c>, stops it with SIGTERM (which
    /// writes everything buffered) and returns the bucket.
    /// </summary>
    private async Task<SortedDictionary<string, string[]>> RestartAndStopAsync(S3Server s3, string prefix, string logged)
    {
        using CollectorProcess second = DurableCollector.Start(_directory);
        string address = await second.WaitUntilListeningAsync();
        Assert.Contains(logged, second.Output, StringComparison.Ordinal);
        using var client = new HttpClient();
        using HttpResponseMessage health = await client.GetAsync(address + "/health", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        second.Signal("TERM");
        Assert.True(await second.WaitForExitAsync() == 0, second.Output);
        DurableCollector.AssertNoDeadLetters(_directory);
        return await DurableCollector.ReadUserKeysAsync(s3, prefix);
    }

    /// <summary>
    /// Replaces the segment holding positions from 0 by three: records <c>[0, a)</c>, <c>[a, b)</c> and <c>[b, end)</c>,
    /// each with its own header; returns their paths in order.
    /// </summary>
    private static string[] SplitSegment(string path, int a, int b)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(0L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)));
        var starts = new List<int>();
        for (int offset = SegmentHeaderSize; offset < bytes.Length; offset += RecordHeaderSize + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset)))
        {
            starts.Add(offset);
        }

        Assert.Equal(Events, starts.Count);
        starts.Add(bytes.Length);
        File.Delete(path);
        string folder = Path.GetDirectoryName(path)!;
        return [Write(0, a), Write(a, b), Write(b, Events)];

        string Write(int first, int end)
        {
            byte[] segment = new byte[SegmentHeaderSize + starts[end] - starts[first]];
            "FXLOG001"u8.CopyTo(segment);
            BinaryPrimitives.WriteInt64LittleEndian(segment.AsSpan(8), first);
            BinaryPrimitives.WriteUInt32LittleEndian(segment.AsSpan(16), Crc32C(segment.AsSpan(0, 16)));
            bytes.AsSpan(starts[first], starts[end] - starts[first]).CopyTo(segment.AsSpan(SegmentHeaderSize));
            string file = Path.Combine(folder, first.ToString("D20", CultureInfo.InvariantCulture) + ".seg");
            File.WriteAllBytes(file, segment);
            return file;
        }
    }

    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte value in data)
        {
            crc = BitOperations.Crc32C(crc, value);
        }

        return ~crc;
    }
}

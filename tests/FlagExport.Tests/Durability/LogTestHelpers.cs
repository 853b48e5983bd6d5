using System.Buffers.Binary;
using FlagExport.Durability;

namespace FlagExport.Tests.Durability;

/// <summary>A record as the tests append and compare it.</summary>
internal readonly record struct TestRecord(long Position, byte Tag, byte[] Payload)
{
    /// <summary>A payload that depends on its position, so that a record read back at a wrong position shows.</summary>
    public static TestRecord For(long position, int size)
    {
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++)
        {
            payload[i] = (byte)((position * 31) + (i * 7) + 1);
        }

        return new TestRecord(position, (byte)(position % 251), payload);
    }

    public bool SameAs(TestRecord other) => Position == other.Position && Tag == other.Tag && Payload.AsSpan().SequenceEqual(other.Payload);
}

/// <summary>Where one record lies inside a segment file.</summary>
internal readonly record struct RecordExtent(string File, long Position, long Start, long End);

internal static class LogTestHelpers
{
    public static SegmentLogOptions SmallSegments(long segmentBytes = 256, long maxBytes = 1L << 30) =>
        new() { SegmentBytes = segmentBytes, MaxBytes = maxBytes };

    /// <summary>Appends records of the given sizes and returns them; positions must continue from <see cref="SegmentLog.EndPosition"/>.</summary>
    public static List<TestRecord> Append(SegmentLog log, IEnumerable<int> sizes)
    {
        var records = new List<TestRecord>();
        foreach (int size in sizes)
        {
            TestRecord record = TestRecord.For(log.EndPosition, size);
            Assert.True(log.TryAppend(record.Tag, record.Payload, out long position));
            Assert.Equal(record.Position, position);
            records.Add(record);
        }

        return records;
    }

    /// <summary>Every durable record from <paramref name="position"/>.</summary>
    public static List<TestRecord> ReadAll(SegmentLog log, long position = 0)
    {
        var records = new List<TestRecord>();
        using SegmentLogReader reader = log.OpenReader(position);
        while (reader.TryRead(out long at, out byte tag, out ReadOnlySpan<byte> payload))
        {
            records.Add(new TestRecord(at, tag, payload.ToArray()));
        }

        return records;
    }

    public static void AssertSame(IReadOnlyList<TestRecord> expected, IReadOnlyList<TestRecord> actual)
    {
        Assert.Equal(expected.Select(r => r.Position), actual.Select(r => r.Position));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].SameAs(actual[i]), $"record {expected[i].Position} differs");
        }
    }

    /// <summary>Segment files in position order.</summary>
    public static string[] SegmentFiles(string directory) =>
        [.. Directory.EnumerateFiles(directory, "*.seg").Order(StringComparer.Ordinal)];

    /// <summary>Parses intact segment files (test side, independent of the log's own reader).</summary>
    public static List<RecordExtent> Extents(string directory)
    {
        var extents = new List<RecordExtent>();
        foreach (string file in SegmentFiles(directory))
        {
            byte[] bytes = File.ReadAllBytes(file);
            long position = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8));
            int offset = 20;
            while (offset < bytes.Length)
            {
                int end = offset + 9 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
                extents.Add(new RecordExtent(file, position++, offset, end));
                offset = end;
            }
        }

        return extents;
    }
}

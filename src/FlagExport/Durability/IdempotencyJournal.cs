using System.Buffers.Binary;
using FlagExport.Buffers;

namespace FlagExport.Durability;

/// <summary>
/// <c>idempotency-keys</c> beside the log: the keys of log segments about to be deleted, so that a sender retrying after
/// its events were exported still finds its key (docs/durable-buffer-format.md, "Key journal").
/// </summary>
/// <remarks>
/// <para>Append-only records <c>payload length u32 | CRC-32C of the payload u32 | payload</c> (payload: an
/// <see cref="IdempotencyRecordCodec"/> record), fsynced before the segments are deleted. Reading stops at the first
/// record that is torn or fails its checksum: only an append cut by a crash leaves one, and its segments were not
/// deleted yet, so the log still holds those keys.</para>
/// <para>Compaction rewrites the file whole with the keys still remembered (temporary file, fsync, rename, fsync of the
/// folder), once it holds more than twice as many records as that, so that it stays proportional to the keys held.</para>
/// <para>Never on a request's path: it is written when segments are released and at start-up.</para>
/// </remarks>
internal sealed class IdempotencyJournal
{
    /// <summary>The file's name in the buffer's folder.</summary>
    public const string FileName = "idempotency-keys";

    private const int RecordHeaderSize = 8;

    /// <summary>Below this many records the journal is never compacted: rewriting it would cost more than it saves.</summary>
    private const int MinCompactRecords = 1024;

    private long _records;

    /// <summary>Uses the journal at <paramref name="path"/> (created on the first append).</summary>
    public IdempotencyJournal(string path) => Path = path;

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Records in the file (valid ones read at start-up plus those appended since).</summary>
    public long RecordCount => _records;

    /// <summary>Reads every intact record; the first torn or damaged one ends the file (it is cut off at the next append).</summary>
    /// <returns>The records, and whether the file ended in a damaged record.</returns>
    public (List<IdempotencyRecord> Records, bool Damaged) Read()
    {
        var records = new List<IdempotencyRecord>();
        if (!File.Exists(Path))
        {
            return (records, false);
        }

        byte[] content = File.ReadAllBytes(Path);
        int offset = 0;
        bool damaged = false;
        while (offset < content.Length)
        {
            ReadOnlySpan<byte> rest = content.AsSpan(offset);
            if (rest.Length < RecordHeaderSize)
            {
                damaged = true;
                break;
            }

            int length = BinaryPrimitives.ReadInt32LittleEndian(rest);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]);
            if (length <= 0 || length > IdempotencyRecordCodec.MaxLength || rest.Length < RecordHeaderSize + length
                || Crc32C.Compute(rest.Slice(RecordHeaderSize, length)) != crc)
            {
                damaged = true;
                break;
            }

            try
            {
                records.Add(IdempotencyRecordCodec.Read(rest.Slice(RecordHeaderSize, length)));
            }
            catch (InvalidDataException)
            {
                damaged = true;
                break;
            }

            offset += RecordHeaderSize + length;
        }

        _records = records.Count;
        if (damaged)
        {
            // Appends go after the intact part, never after damage that would hide them from the next read.
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Write, FileShare.None);
            stream.SetLength(offset);
            stream.Flush(flushToDisk: true);
        }

        return (records, damaged);
    }

    /// <summary>Appends <paramref name="records"/> and fsyncs; the folder too when the file is new.</summary>
    public void Append(IReadOnlyList<IdempotencyRecord> records)
    {
        if (records.Count == 0)
        {
            return;
        }

        bool created = !File.Exists(Path);
        using var buffer = new PooledBufferWriter(records.Count * 128);
        Encode(records, buffer);
        using (var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.None))
        {
            stream.Write(buffer.WrittenSpan);
            stream.Flush(flushToDisk: true);
        }

        if (created)
        {
            DirectorySync.Flush(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        }

        _records += records.Count;
    }

    /// <summary>Whether the file holds more than twice the <paramref name="held"/> keys worth keeping (and enough records for a rewrite to pay).</summary>
    public bool ShouldCompact(int held) => _records >= MinCompactRecords && _records > 2L * held;

    /// <summary>Replaces the file with <paramref name="records"/> alone, durably: after a crash it holds the old records or the new.</summary>
    public void Rewrite(IReadOnlyList<IdempotencyRecord> records)
    {
        using var buffer = new PooledBufferWriter(Math.Max(records.Count * 128, 128));
        Encode(records, buffer);
        DurableFile.Replace(Path, buffer.WrittenSpan);
        _records = records.Count;
    }

    private static void Encode(IReadOnlyList<IdempotencyRecord> records, PooledBufferWriter buffer)
    {
        Span<byte> record = stackalloc byte[RecordHeaderSize + IdempotencyRecordCodec.MaxLength];
        foreach (IdempotencyRecord item in records)
        {
            int length = IdempotencyRecordCodec.Encode(item, record[RecordHeaderSize..]);
            BinaryPrimitives.WriteInt32LittleEndian(record, length);
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C.Compute(record.Slice(RecordHeaderSize, length)));
            buffer.Write(record[..(RecordHeaderSize + length)]);
        }
    }
}

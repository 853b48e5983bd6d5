using System.Buffers;
using System.Buffers.Binary;

namespace FlagExport.Durability;

/// <summary>
/// The payload of an idempotency record, in the log (tag <see cref="Tag"/>) and in the key journal
/// (docs/durable-buffer-format.md, "Idempotency records"). Little-endian:
/// <code>
/// version u8 (1) | scope (32) | body hash (32) | event count i32 (4) | arrival, Unix ms i64 (8) | key length u8 (1) | key ASCII
/// </code>
/// </summary>
internal static class IdempotencyRecordCodec
{
    /// <summary>The log tag of an idempotency record: not an event, every reader of events passes over it.</summary>
    public const byte Tag = 4;

    /// <summary>The first byte of every payload.</summary>
    public const byte FormatVersion = 1;

    private const int HashBytes = 32;
    private const int FixedBytes = 1 + HashBytes + HashBytes + 4 + 8 + 1;

    /// <summary>The most bytes a payload takes.</summary>
    public const int MaxLength = FixedBytes + IdempotencyKeys.MaxKeyLength;

    /// <summary>Appends the payload of <paramref name="record"/> to <paramref name="output"/>.</summary>
    /// <returns>The bytes written.</returns>
    public static int Write(IdempotencyRecord record, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = Encode(record, output.GetSpan(MaxLength));
        output.Advance(length);
        return length;
    }

    /// <summary>Writes the payload of <paramref name="record"/> at the start of <paramref name="span"/> (at least <see cref="MaxLength"/> bytes).</summary>
    /// <returns>The bytes written.</returns>
    public static int Encode(IdempotencyRecord record, Span<byte> span)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!IdempotencyKeys.IsValidKey(record.Key))
        {
            throw new ArgumentException($"The idempotency key must be 1 to {IdempotencyKeys.MaxKeyLength} printable ASCII characters.", nameof(record));
        }

        span[0] = FormatVersion;
        _ = Convert.FromHexString(record.Scope, span.Slice(1, HashBytes), out _, out _);
        _ = Convert.FromHexString(record.BodyHash, span.Slice(1 + HashBytes, HashBytes), out _, out _);
        BinaryPrimitives.WriteInt32LittleEndian(span[(1 + (2 * HashBytes))..], record.EventCount);
        BinaryPrimitives.WriteInt64LittleEndian(span[(5 + (2 * HashBytes))..], record.ArrivalTime.ToUnixTimeMilliseconds());
        span[FixedBytes - 1] = (byte)record.Key.Length;
        for (int i = 0; i < record.Key.Length; i++)
        {
            span[FixedBytes + i] = (byte)record.Key[i];
        }

        return FixedBytes + record.Key.Length;
    }

    /// <summary>
    /// <see cref="Read"/>, or null for a payload that is not a key record of this version: its checksum was right, so
    /// it was written so (by a later version); passed over, as readers of events pass over a record that is not one.
    /// </summary>
    public static IdempotencyRecord? TryRead(ReadOnlySpan<byte> payload)
    {
        try
        {
            return Read(payload);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The payload is not one <see cref="Write"/> produces.</exception>
    public static IdempotencyRecord Read(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < FixedBytes || payload[0] != FormatVersion)
        {
            throw new InvalidDataException(payload.Length == 0
                ? "Empty idempotency record."
                : $"Unknown idempotency record format version {payload[0]} or length {payload.Length}; this reader knows version {FormatVersion}.");
        }

        int keyLength = payload[FixedBytes - 1];
        if (keyLength == 0 || payload.Length != FixedBytes + keyLength)
        {
            throw new InvalidDataException($"The idempotency record's key length {keyLength} does not match its {payload.Length} bytes.");
        }

        ReadOnlySpan<byte> key = payload[FixedBytes..];
        if (!IdempotencyKeys.IsValidKey(key))
        {
            throw new InvalidDataException("The idempotency record's key is not printable ASCII.");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(payload[(1 + (2 * HashBytes))..]);
        long arrival = BinaryPrimitives.ReadInt64LittleEndian(payload[(5 + (2 * HashBytes))..]);
        if (count < 0 || arrival < 0 || arrival > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new InvalidDataException($"The idempotency record's event count {count} or arrival time {arrival} is out of range.");
        }

        return new IdempotencyRecord(
            Convert.ToHexStringLower(payload.Slice(1, HashBytes)),
            System.Text.Encoding.ASCII.GetString(key),
            Convert.ToHexStringLower(payload.Slice(1 + HashBytes, HashBytes)),
            count,
            DateTimeOffset.FromUnixTimeMilliseconds(arrival));
    }
}

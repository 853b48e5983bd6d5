using System.Buffers.Binary;
using System.Numerics;

namespace FlagExport.Durability;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of the segment log. <see cref="BitOperations.Crc32C(uint, ulong)"/> uses the SSE4.2
/// or ARMv8 CRC instruction when there is one, so no package is needed.
/// </summary>
internal static class Crc32C
{
    /// <summary>The running value to start from; pass the result of one <see cref="Append"/> to the next.</summary>
    public const uint Seed = ~0u;

    /// <summary>Folds <paramref name="data"/> into a running value (not yet inverted; see <see cref="Finish"/>).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + sizeof(ulong) <= data.Length; i += sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, data[i]);
        }

        return crc;
    }

    /// <summary>The standard CRC-32C of a running value.</summary>
    public static uint Finish(uint crc) => ~crc;

    /// <summary>The standard CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Seed, data));
}

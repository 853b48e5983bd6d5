using System.Buffers.Binary;
using FlagExport.Durability;

namespace FlagExport.Tests.Durability;

public sealed class Crc32CTests
{
    [Fact]
    public void Matches_the_standard_check_value() => Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(300)]
    public void Record_checksum_covers_length_tag_and_payload(int size)
    {
        byte[] payload = [.. Enumerable.Range(0, size).Select(i => (byte)(i * 13))];
        byte[] covered = new byte[5 + size];
        BinaryPrimitives.WriteUInt32LittleEndian(covered, (uint)size);
        covered[4] = 42;
        payload.CopyTo(covered, 5);

        Assert.Equal(Crc32C.Compute(covered), SegmentFormat.RecordChecksum(42, payload));
    }
}

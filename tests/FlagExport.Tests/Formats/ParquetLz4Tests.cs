using FlagExport.Buffers;
using FlagExport.Formats;
using Parquet;
using Parquet.Schema;

namespace FlagExport.Tests.Formats;

/// <summary>
/// Why <c>LZ4</c> is written as <c>LZ4_RAW</c>: the facts about the pinned Parquet.Net that the mapping rests on.
/// If an upgrade of Parquet.Net makes these fail, revisit <see cref="ParquetCompressionCodecs"/>.
/// </summary>
public sealed class ParquetLz4Tests
{
    [Fact]
    public async Task ParquetNetOwnLz4_IsLabelledDeprecatedLz4_AndDuckDbCannotReadIt()
    {
        byte[] file = await WriteWithParquetNetAsync(CompressionMethod.LZ4);

        // Arrow reads the deprecated LZ4 codec as Hadoop-framed LZ4, falling back to a bare block.
        Assert.Equal("Lz4Hadoop", ParquetReaders.DescribeWithParquetSharp(file)[0].Compression);
        Assert.Equal("value-0", ParquetReaders.ReadWithParquetSharp(file, out _, out _)["s"][0]);

        var error = Assert.ThrowsAny<Exception>(() => ParquetReaders.QueryWithDuckDb(file, "SELECT min(s) FROM read_parquet({file})"));
        Assert.Contains("Unsupported compression codec \"LZ4\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ParquetNetLz4Raw_IsReadByBothReaders()
    {
        byte[] file = await WriteWithParquetNetAsync(CompressionMethod.Lz4Raw);

        Assert.Equal("Lz4", ParquetReaders.DescribeWithParquetSharp(file)[0].Compression); // Arrow's name for LZ4_RAW
        Assert.Equal("value-0", ParquetReaders.ReadWithParquetSharp(file, out _, out _)["s"][0]);
        Assert.Equal("LZ4_RAW", ParquetReaders.QueryWithDuckDb(file, "SELECT compression FROM parquet_metadata({file})").Single()[0]);
        Assert.Equal("value-0", ParquetReaders.QueryWithDuckDb(file, "SELECT min(s) FROM read_parquet({file})").Single()[0]);
    }

    [Fact]
    public async Task EncoderAskedForLz4_WritesAFileDuckDbReads()
    {
        using var encoder = ParquetEncoder.FromOption("LZ4");
        using var output = new PooledBufferWriter();

        await encoder.EncodeAsync(ParquetSampleEvents.Repetitive(100), output, TestContext.Current.CancellationToken);

        byte[] file = output.WrittenSpan.ToArray();
        Assert.Equal("user-0", ParquetReaders.QueryWithDuckDb(file, "SELECT min(userKey) FROM read_parquet({file})").Single()[0]);
    }

    private static async Task<byte[]> WriteWithParquetNetAsync(CompressionMethod method)
    {
        var field = new DataField<string>("s", false);
        var schema = new ParquetSchema(field);
        var options = new ParquetOptions { CompressionMethod = method, CompressionLevel = System.IO.Compression.CompressionLevel.Fastest };
        using var output = new PooledBufferWriter();
        using (var stream = new BufferWriterStream(output))
        {
            ParquetWriter writer = await ParquetWriter.CreateAsync(schema, stream, options, false, TestContext.Current.CancellationToken);
            await using (writer)
            {
                using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
                ReadOnlyMemory<char>[] values = [.. Enumerable.Range(0, 100).Select(i => $"value-{i}".AsMemory())];
                await rowGroup.WriteAsync(field, new ReadOnlyMemory<ReadOnlyMemory<char>>(values), null, null, TestContext.Current.CancellationToken);
            }
        }

        return output.WrittenSpan.ToArray();
    }
}

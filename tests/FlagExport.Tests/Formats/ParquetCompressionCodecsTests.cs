using System.IO.Compression;
using FlagExport.Formats;
using Parquet;

namespace FlagExport.Tests.Formats;

public sealed class ParquetCompressionCodecsTests
{
    [Theory]
    [InlineData(null, CompressionMethod.Snappy)]
    [InlineData("", CompressionMethod.Snappy)]
    [InlineData("SNAPPY", CompressionMethod.Snappy)]
    [InlineData("snappy", CompressionMethod.Snappy)]
    [InlineData("UNCOMPRESSED", CompressionMethod.None)]
    [InlineData("Uncompressed", CompressionMethod.None)]
    [InlineData("GZIP", CompressionMethod.Gzip)]
    [InlineData("gzip", CompressionMethod.Gzip)]
    [InlineData("BROTLI", CompressionMethod.Brotli)]
    [InlineData("LZ4_RAW", CompressionMethod.Lz4Raw)]
    [InlineData("lz4_raw", CompressionMethod.Lz4Raw)]
    [InlineData("ZSTD", CompressionMethod.Zstd)]
    [InlineData("zStd", CompressionMethod.Zstd)]
    public void Parse_AcceptsEveryCodecNameInAnyCase(string? value, CompressionMethod expected)
    {
        Assert.Equal(expected, ParquetCompressionCodecs.Parse(value));
        Assert.True(ParquetCompressionCodecs.TryParse(value, out CompressionMethod parsed));
        Assert.Equal(expected, parsed);
    }

    [Theory]
    [InlineData("LZ4")]
    [InlineData("lz4")]
    public void Parse_Lz4_GivesLz4Raw_BecauseParquetNetWritesRawBlocks(string value) =>
        Assert.Equal(CompressionMethod.Lz4Raw, ParquetCompressionCodecs.Parse(value));

    [Theory]
    [InlineData("LZO")]
    [InlineData("snapy")]
    [InlineData(" SNAPPY")]
    [InlineData("BZ2")]
    [InlineData("none")]
    public void Parse_UnknownName_ThrowsNamingTheOptionTheValueAndTheValidValues(string value)
    {
        var error = Assert.Throws<ArgumentException>(() => ParquetCompressionCodecs.Parse(value));

        Assert.Equal("ParquetCompressionCodec", error.ParamName);
        Assert.StartsWith($"ParquetCompressionCodec '{value}' is not a valid Parquet compression codec; "
            + "valid values are UNCOMPRESSED, SNAPPY, GZIP, BROTLI, LZ4, LZ4_RAW, ZSTD (case-insensitive).", error.Message, StringComparison.Ordinal);
        Assert.False(ParquetCompressionCodecs.TryParse(value, out _));
    }

    [Fact]
    public void EncoderFromOption_UnknownName_ThrowsTheSameError()
    {
        var error = Assert.Throws<ArgumentException>(() => ParquetEncoder.FromOption("LZO"));

        Assert.Equal("ParquetCompressionCodec", error.ParamName);
        Assert.Contains("'LZO'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EncoderFromOption_KeepsTheParsedCodec()
    {
        using var encoder = ParquetEncoder.FromOption("zstd");

        Assert.Equal(CompressionMethod.Zstd, encoder.Compression);
        Assert.Equal(ExportFormat.Parquet, encoder.Format);
    }

    [Fact]
    public void Encoder_GivenLz4Directly_WritesLz4RawToo()
    {
        using var encoder = new ParquetEncoder(CompressionMethod.LZ4);

        Assert.Equal(CompressionMethod.Lz4Raw, encoder.Compression);
    }

    [Fact]
    public void Encoder_RejectsLzo_WhichParquetNetCannotWrite()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ParquetEncoder(CompressionMethod.Lzo));

        Assert.Equal("compression", error.ParamName);
    }

    [Theory]
    [InlineData("SNAPPY", CompressionLevel.Optimal)]
    [InlineData("ZSTD", CompressionLevel.Optimal)]
    [InlineData("GZIP", CompressionLevel.Optimal)]
    [InlineData("BROTLI", CompressionLevel.Optimal)]
    [InlineData("LZ4", CompressionLevel.Fastest)]
    [InlineData("LZ4_RAW", CompressionLevel.Fastest)]
    public void Encoder_SetsTheCompressionLevel_NeverTheLibraryDefaultSmallestSize(string codec, CompressionLevel expected)
    {
        using var encoder = ParquetEncoder.FromOption(codec);

        Assert.Equal(expected, encoder.CompressionLevel);
    }
}

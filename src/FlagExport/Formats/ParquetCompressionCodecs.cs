using Parquet;

namespace FlagExport.Formats;

/// <summary>
/// Parses the <c>ParquetCompressionCodec</c> option (go-feature-flag's names, from parquet-format's Compression.md)
/// into Parquet.Net's <see cref="CompressionMethod"/>.
/// </summary>
/// <remarks>
/// <para>Unlike go-feature-flag, which silently falls back to SNAPPY on an unknown name, an unknown name is a
/// configuration error. LZO is not offered: Parquet.Net 6.1.0 cannot write it.</para>
/// <para>What Parquet.Net 6.1.0 actually writes: the codec recorded in the footer is the enum's number, and both
/// <see cref="CompressionMethod.LZ4"/> and <see cref="CompressionMethod.Lz4Raw"/> compress pages as a bare LZ4 block
/// (K4os <c>LZ4Codec.Encode</c>), without the Hadoop framing that parquet-format requires for the deprecated
/// <c>LZ4</c> codec. So a file labelled <c>LZ4</c> holds <c>LZ4_RAW</c> bytes: ParquetSharp (Arrow) reads it through
/// a fallback, DuckDB 1.5 refuses it ("Unsupported compression codec LZ4"), and parquet-mr expects the Hadoop framing.
/// This class therefore maps <c>LZ4</c> to <see cref="CompressionMethod.Lz4Raw"/>, so that the label in the file
/// describes its bytes and every reader above reads it (<c>ParquetLz4Tests</c> checks these facts).</para>
/// </remarks>
internal static class ParquetCompressionCodecs
{
    /// <summary>The name of the option, as error messages give it.</summary>
    public const string OptionName = "ParquetCompressionCodec";

    /// <summary>The accepted values, as the documentation lists them.</summary>
    public const string ValidValues = "UNCOMPRESSED, SNAPPY, GZIP, BROTLI, LZ4, LZ4_RAW, ZSTD";

    /// <summary>The codec used when the option is not set: SNAPPY, as in go-feature-flag.</summary>
    public const CompressionMethod Default = CompressionMethod.Snappy;

    /// <summary>Parses <paramref name="value"/> case-insensitively; null or empty means <see cref="Default"/>.</summary>
    /// <remarks><c>LZ4</c> gives <see cref="CompressionMethod.Lz4Raw"/>, as the class remarks explain.</remarks>
    public static bool TryParse(string? value, out CompressionMethod method)
    {
        method = Default;
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }

        ReadOnlySpan<char> name = value;
        if (Is(name, "SNAPPY"))
        {
            method = CompressionMethod.Snappy;
        }
        else if (Is(name, "UNCOMPRESSED"))
        {
            method = CompressionMethod.None;
        }
        else if (Is(name, "GZIP"))
        {
            method = CompressionMethod.Gzip;
        }
        else if (Is(name, "BROTLI"))
        {
            method = CompressionMethod.Brotli;
        }
        else if (Is(name, "LZ4") || Is(name, "LZ4_RAW"))
        {
            method = CompressionMethod.Lz4Raw;
        }
        else if (Is(name, "ZSTD"))
        {
            method = CompressionMethod.Zstd;
        }
        else
        {
            return false;
        }

        return true;
    }

    /// <summary>Parses <paramref name="value"/> or throws an error naming the option, the value and the valid values.</summary>
    /// <param name="value">The option's value.</param>
    /// <param name="optionName">The option's name in messages, and the exception's <see cref="ArgumentException.ParamName"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="value"/> is not a codec name.</exception>
    public static CompressionMethod Parse(string? value, string optionName = OptionName) =>
        TryParse(value, out CompressionMethod method)
            ? method
            : throw new ArgumentException(
                $"{optionName} '{value}' is not a valid Parquet compression codec; valid values are {ValidValues} (case-insensitive).",
                optionName);

    private static bool Is(ReadOnlySpan<char> name, string expected) => name.Equals(expected, StringComparison.OrdinalIgnoreCase);
}

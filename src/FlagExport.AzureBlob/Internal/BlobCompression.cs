using System.IO.Compression;
using ZstdSharp;

namespace FlagExport.AzureBlob;

/// <summary>The <c>Compression</c> option: how a JSON or CSV blob is compressed before upload.</summary>
internal enum BlobCompression
{
    None,
    Gzip,
    Zstd,
}

/// <summary>Parses the <c>Compression</c> option and compresses one encoding from pooled buffer to pooled buffer.</summary>
internal static class BlobCompressions
{
    /// <summary>zstd's default level: about as fast as gzip's fastest, smaller than gzip's best.</summary>
    private const int ZstdLevel = 3;

    /// <summary>Parses <paramref name="value"/> case-insensitively; null or empty means none.</summary>
    /// <exception cref="ArgumentException">Not a valid value; the message names <paramref name="optionName"/> and the value.</exception>
    public static BlobCompression Parse(string? value, string optionName) => value?.ToUpperInvariant() switch
    {
        null or "" or "NONE" => BlobCompression.None,
        "GZIP" => BlobCompression.Gzip,
        "ZSTD" => BlobCompression.Zstd,
        _ => throw new ArgumentException($"{optionName} '{value}' is not valid; valid values are none, gzip, zstd (case-insensitive).", optionName),
    };

    /// <summary>The extension appended to the blob name: <c>.gz</c>, <c>.zst</c> or nothing.</summary>
    public static string FileExtension(this BlobCompression compression) => compression switch
    {
        BlobCompression.Gzip => ".gz",
        BlobCompression.Zstd => ".zst",
        _ => "",
    };

    /// <summary>The blob's <c>Content-Encoding</c>, or null.</summary>
    public static string? ContentEncoding(this BlobCompression compression) => compression switch
    {
        BlobCompression.Gzip => "gzip",
        BlobCompression.Zstd => "zstd",
        _ => null,
    };

    /// <summary>What compresses an encoding into a new pooled buffer, or null for none.</summary>
    public static Func<PooledBufferWriter, PooledBufferWriter>? ToCompressor(this BlobCompression compression) =>
        compression == BlobCompression.None ? null : encoded =>
        {
            var compressed = new PooledBufferWriter(encoded.WrittenCount / 4);
            try
            {
                Compress(compression, encoded.WrittenSpan, compressed);
            }
            catch
            {
                compressed.Dispose();
                throw;
            }

            return compressed;
        };

    private static void Compress(BlobCompression compression, ReadOnlySpan<byte> source, PooledBufferWriter output)
    {
        if (compression == BlobCompression.Gzip)
        {
            using Stream sink = output.AsStream();
            using var gzip = new GZipStream(sink, CompressionLevel.Optimal, leaveOpen: true);
            gzip.Write(source);
            return;
        }

        // One zstd frame, compressed in one call into a span sized by the worst case.
        using var compressor = new Compressor(ZstdLevel);
        int written = compressor.Wrap(source, output.GetSpan(Compressor.GetCompressBound(source.Length)));
        output.Advance(written);
    }
}

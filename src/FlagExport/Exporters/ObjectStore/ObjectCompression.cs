using System.IO.Compression;
using ZstdSharp;

namespace FlagExport;

/// <summary>The <c>Compression</c> option: how a JSON or CSV object is compressed before upload.</summary>
internal enum ObjectCompression
{
    None,
    Gzip,
    Zstd,
}

/// <summary>Parses the <c>Compression</c> option and compresses one encoded batch from pooled buffer to pooled buffer.</summary>
internal static class ObjectCompressions
{
    /// <summary>The accepted values, as the documentation lists them.</summary>
    public const string ValidValues = "none, gzip, zstd";

    /// <summary>zstd's default level: about as fast as gzip's fastest, smaller than gzip's best.</summary>
    private const int ZstdLevel = 3;

    /// <summary>Parses <paramref name="value"/> case-insensitively; null or empty means none.</summary>
    /// <exception cref="ArgumentException">Not a valid value; the message names <paramref name="optionName"/> and the value.</exception>
    public static ObjectCompression Parse(string? value, string optionName)
    {
        if (string.IsNullOrEmpty(value) || value.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return ObjectCompression.None;
        }

        if (value.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            return ObjectCompression.Gzip;
        }

        if (value.Equals("zstd", StringComparison.OrdinalIgnoreCase))
        {
            return ObjectCompression.Zstd;
        }

        throw new ArgumentException($"{optionName} '{value}' is not valid; valid values are {ValidValues} (case-insensitive).", optionName);
    }

    /// <summary>The extension appended to the object name: <c>.gz</c>, <c>.zst</c> or nothing.</summary>
    public static string FileExtension(this ObjectCompression compression) => compression switch
    {
        ObjectCompression.Gzip => ".gz",
        ObjectCompression.Zstd => ".zst",
        _ => "",
    };

    /// <summary>The <c>Content-Encoding</c> of the object, or null.</summary>
    public static string? ContentEncoding(this ObjectCompression compression) => compression switch
    {
        ObjectCompression.Gzip => "gzip",
        ObjectCompression.Zstd => "zstd",
        _ => null,
    };

    /// <summary>What compresses an encoding into a new pooled buffer, or null for none.</summary>
    public static Func<PooledBufferWriter, PooledBufferWriter>? ToCompressor(this ObjectCompression compression) =>
        compression == ObjectCompression.None ? null : encoded =>
        {
            var compressed = new PooledBufferWriter(encoded.WrittenCount / 4);
            try
            {
                compression.Compress(encoded.WrittenSpan, compressed);
            }
            catch
            {
                compressed.Dispose();
                throw;
            }

            return compressed;
        };

    /// <summary>Appends <paramref name="source"/> compressed with <paramref name="compression"/> to <paramref name="output"/>.</summary>
    public static void Compress(this ObjectCompression compression, ReadOnlySpan<byte> source, PooledBufferWriter output)
    {
        switch (compression)
        {
            case ObjectCompression.Gzip:
                using (Stream sink = output.AsStream())
                using (var gzip = new GZipStream(sink, CompressionLevel.Optimal, leaveOpen: true))
                {
                    gzip.Write(source);
                }

                break;

            case ObjectCompression.Zstd:
                // One frame, compressed in one call into a span sized by the worst case: no intermediate stream or copy.
                using (var compressor = new Compressor(ZstdLevel))
                {
                    int bound = Compressor.GetCompressBound(source.Length);
                    int written = compressor.Wrap(source, output.GetSpan(bound));
                    output.Advance(written);
                }

                break;

            default:
                output.Write(source);
                break;
        }
    }
}

using System.Text;

namespace FlagExport;

/// <summary>
/// What decides a batch's objects besides its encoding: the path template, which splits the batch into partitions by
/// event hour and prefixes their names, and the compression, which decides the bytes, the name's extension and the
/// <c>Content-Encoding</c>. Checked once, from the exporter's options; an <see cref="ObjectStoreWriter"/> records it with
/// each batch, so that every retry writes the partitions and bytes of the batch's first attempt.
/// </summary>
/// <remarks>Immutable.</remarks>
public sealed class ObjectLayout
{
    /// <summary>9999-12-31T23:59:59Z, the last second a path template renders.</summary>
    private const long LastUnixSecond = 253_402_300_799;

    private readonly int _maxFileNameBytes;

    private ObjectLayout(ObjectCompression compression, string pathText, PartitionTemplate path, string pathOptionName, int maxFileNameBytes)
    {
        Compression = compression;
        PathText = pathText;
        Path = path;
        PathOptionName = pathOptionName;
        _maxFileNameBytes = maxFileNameBytes;
    }

    internal ObjectCompression Compression { get; }

    /// <summary>The path template's text, recorded with each batch.</summary>
    internal string PathText { get; }

    internal PartitionTemplate Path { get; }

    /// <summary>The path template's option name (<c>S3Path</c>, <c>Path</c>), for messages.</summary>
    internal string PathOptionName { get; }

    /// <summary>Checks the path template and the compression of an exporter whose file options <paramref name="encoder"/> checked.</summary>
    /// <param name="encoder">The exporter's encoder: its format and longest file name.</param>
    /// <param name="path">The path template (<see cref="PartitionTemplate"/>); null or empty for none.</param>
    /// <param name="pathOptionName">The path option's name, for messages.</param>
    /// <param name="compression"><c>none</c>, <c>gzip</c> or <c>zstd</c> (case-insensitive); null or empty for none.</param>
    /// <param name="compressionOptionName">The compression option's name, for messages.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value, the parameter name is the option's.</exception>
    public static ObjectLayout Create(ExportFileEncoder encoder, string? path, string pathOptionName, string? compression, string compressionOptionName)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(pathOptionName);
        ArgumentNullException.ThrowIfNull(compressionOptionName);
        var template = PartitionTemplate.Parse(path, pathOptionName);
        ObjectCompression parsed = ObjectCompressions.Parse(compression, compressionOptionName);
        if (parsed != ObjectCompression.None && encoder.Format == ExportFormat.Parquet)
        {
            throw new ArgumentException(
                $"{compressionOptionName} '{compression}' cannot be used with Format 'Parquet': Parquet compresses its pages itself; set ParquetCompressionCodec instead and {compressionOptionName} to none.",
                compressionOptionName);
        }

        return new(parsed, path ?? "", template, pathOptionName, encoder.MaxFileNameBytes);
    }

    /// <summary>
    /// The length of the longest name this layout can give (a <c>-N</c> suffix included): in characters, or in bytes of
    /// <paramref name="encoding"/> when given. For checking the options against the store's limit.
    /// </summary>
    public int LongestName(Encoding? encoding = null)
    {
        // Every field of the path has a fixed width, so the last second of year 9999 renders the longest prefix.
        string prefixAndExtension = Path.Render(LastUnixSecond) + Compression.FileExtension();
        return (encoding?.GetByteCount(prefixAndExtension) ?? prefixAndExtension.Length) + _maxFileNameBytes;
    }

    /// <summary>The record of this layout: the compression name, a newline (no compression name has one), then the path template.</summary>
    internal string Format() => string.Concat(Compression.ToString(), "\n", PathText);

    /// <summary>
    /// Reads what <see cref="Format"/> wrote; this layout when it is the same (or nothing was recorded), so the common case parses nothing.
    /// </summary>
    /// <exception cref="ExportEncodingException">The record cannot be read: the batch goes to the dead letters.</exception>
    internal ObjectLayout Parse(string? recorded, string batchId)
    {
        if (recorded is null || recorded == Format())
        {
            return this;
        }

        int newline = recorded.IndexOf('\n', StringComparison.Ordinal);
        try
        {
            if (newline < 0)
            {
                throw new FormatException("it holds no newline");
            }

            string pathText = recorded[(newline + 1)..];
            return new(
                ObjectCompressions.Parse(recorded[..newline], "Compression"), pathText, PartitionTemplate.Parse(pathText, PathOptionName), PathOptionName, _maxFileNameBytes);
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException)
        {
            throw new ExportEncodingException($"Batch {batchId} recorded its compression and path as '{recorded}', which cannot be read: {exception.Message}", exception);
        }
    }
}

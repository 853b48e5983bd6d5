namespace FlagExport.S3;

/// <summary>The headers that describe an object's bytes: from its batch's recorded encoding and compression.</summary>
/// <param name="ContentType">The format's media type.</param>
/// <param name="Compression">The compression of the bytes, which gives the <c>Content-Encoding</c>.</param>
internal readonly record struct ObjectContent(string ContentType, PayloadCompression Compression);

/// <summary>
/// What the S3 exporter keeps from a batch's first attempt besides the encoding (<see cref="BatchEncoding"/>): the
/// compression, which decides the bytes and the key's extension, and the <c>S3Path</c> template, which decides the
/// partitions. Kept as <see cref="BatchEncoding.ExporterSettings"/>, so a retry writes the same partitions and parts.
/// </summary>
internal sealed record S3BatchLayout(PayloadCompression Compression, string PathText, PartitionTemplate Path)
{
    /// <summary>The layout of the current options.</summary>
    public static S3BatchLayout Of(S3ExportSettings settings) => new(settings.Compression, settings.PathText, settings.Path);

    /// <summary>The compression name, a newline (no compression name has one), then the path template.</summary>
    public string Format() => string.Concat(Compression.ToString(), "\n", PathText);

    /// <summary>
    /// Reads what <see cref="Format"/> wrote; <paramref name="current"/> when it is the same, so the common case parses nothing.
    /// </summary>
    /// <exception cref="ExportEncodingException">The record cannot be read: the batch goes to the dead letters.</exception>
    public static S3BatchLayout Parse(string? recorded, S3BatchLayout current, string batchId)
    {
        if (recorded is null || recorded == current.Format())
        {
            return current;
        }

        int newline = recorded.IndexOf('\n', StringComparison.Ordinal);
        try
        {
            if (newline < 0)
            {
                throw new FormatException("it holds no newline");
            }

            string pathText = recorded[(newline + 1)..];
            return new(PayloadCompressions.Parse(recorded[..newline], "Compression"), pathText, PartitionTemplate.Parse(pathText, "S3Path"));
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException)
        {
            throw new ExportEncodingException($"Batch {batchId} recorded its S3 compression and path as '{recorded}', which cannot be read: {exception.Message}", exception);
        }
    }
}

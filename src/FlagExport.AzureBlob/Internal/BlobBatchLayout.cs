namespace FlagExport.AzureBlob;

/// <summary>
/// What the exporter keeps from a batch's first attempt besides the encoding: the compression (the bytes and the name's
/// extension) and the <c>Path</c> template (the partitions). Kept as <see cref="BatchEncoding.ExporterSettings"/>, so a
/// retry writes the same partitions and parts whatever the options are by then.
/// </summary>
internal sealed record BlobBatchLayout(BlobCompression Compression, string PathText, PartitionTemplate Path)
{
    /// <summary>The layout of the current options.</summary>
    public static BlobBatchLayout Of(AzureBlobSettings settings) => new(settings.Compression, settings.PathText, settings.Path);

    /// <summary>The compression name, a newline (no compression name has one), then the path template.</summary>
    public string Format() => string.Concat(Compression.ToString(), "\n", PathText);

    /// <summary>Reads what <see cref="Format"/> wrote; <paramref name="current"/> when it is the same.</summary>
    /// <exception cref="ExportEncodingException">The record cannot be read: the batch goes to the dead letters.</exception>
    public static BlobBatchLayout Parse(string? recorded, BlobBatchLayout current, string batchId)
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
            return new(BlobCompressions.Parse(recorded[..newline], "Compression"), pathText, PartitionTemplate.Parse(pathText, "Path"));
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException)
        {
            throw new ExportEncodingException($"Batch {batchId} recorded its blob compression and path as '{recorded}', which cannot be read: {exception.Message}", exception);
        }
    }
}

namespace FlagExport.AzureBlob;

/// <summary><see cref="AzureBlobExporterOptions"/> checked and converted once, when the exporter is created.</summary>
/// <remarks>Immutable; a snapshot, so later changes to the options object have no effect.</remarks>
internal sealed class AzureBlobSettings
{
    /// <summary>The longest blob name Blob Storage accepts, in characters.</summary>
    private const int MaxBlobNameLength = 1024;

    private AzureBlobSettings()
    {
    }

    public required string Container { get; init; }

    /// <summary>The <c>Path</c> and <c>Compression</c> of new batches; a batch's retries keep those it started with.</summary>
    public required ObjectLayout Layout { get; init; }

    /// <summary>The smallest <c>SingleUploadThreshold</c> and <c>BlockSize</c> accepted: 1 MiB.</summary>
    private const long MinTransferSize = 1024 * 1024;

    /// <summary>Above this many bytes a blob is staged as blocks of <see cref="BlockSize"/>.</summary>
    public required long SingleUploadThreshold { get; init; }

    public required long BlockSize { get; init; }

    /// <summary>Checks every Azure-specific option; the file options were checked by <paramref name="encoder"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public static AzureBlobSettings Create(AzureBlobExporterOptions options, ExportFileEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(options);
        string container = options.Container?.Trim() ?? "";
        if (container.Length == 0)
        {
            throw InvalidOption("Container is required: set it to the name of the blob container to write to.", nameof(options.Container));
        }

        // Blob Storage's rule: 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.
        if (container.Length is < 3 or > 63
            || !container.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            || container[0] == '-' || container[^1] == '-' || container.Contains("--", StringComparison.Ordinal))
        {
            throw InvalidOption(
                $"Container '{options.Container}' is not a container name: 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit (write folders in Path).",
                nameof(options.Container));
        }

        var layout = ObjectLayout.Create(encoder, options.Path, nameof(options.Path), options.Compression, nameof(options.Compression));
        int longest = layout.LongestName();
        if (longest > MaxBlobNameLength)
        {
            throw InvalidOption(
                $"Path '{options.Path}' and Filename '{options.Filename}' can give blob names of up to {longest} characters (a -N suffix included), more than the {MaxBlobNameLength} Blob Storage accepts; shorten them.",
                nameof(options.Filename));
        }

        foreach ((long value, string name) in new[] { (options.SingleUploadThreshold, nameof(options.SingleUploadThreshold)), (options.BlockSize, nameof(options.BlockSize)) })
        {
            if (value is < MinTransferSize or > AzureBlobExporterOptions.MaxBlockSize)
            {
                throw InvalidOption(
                    $"{name} {value} is out of range: it must be between 1 MiB ({MinTransferSize}) and 4000 MiB ({AzureBlobExporterOptions.MaxBlockSize}) bytes.", name);
            }
        }

        return new AzureBlobSettings
        {
            Container = container, Layout = layout,
            SingleUploadThreshold = options.SingleUploadThreshold, BlockSize = options.BlockSize,
        };
    }

    /// <summary>The error for an invalid option: an <see cref="ArgumentException"/> whose parameter name is the option's.</summary>
    internal static ArgumentException InvalidOption(string message, string optionName, Exception? innerException = null) =>
        new(message, optionName, innerException);
}

using System.Text;
using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.S3;

/// <summary>
/// <see cref="S3ExporterOptions"/> checked and converted once, when the exporter is created: what every upload needs.
/// </summary>
/// <remarks>Immutable; a snapshot, so later changes to the options object have no effect.</remarks>
internal sealed class S3ExportSettings
{
    private const int MaxTags = 10;
    private const int MaxTagKeyLength = 128;
    private const int MaxTagValueLength = 256;
    private const int MaxMultipartConcurrency = 64;

    /// <summary>The longest object key S3 accepts, in UTF-8 bytes.</summary>
    private const int MaxKeyBytes = 1024;

    private S3ExportSettings()
    {
    }

    public required string Bucket { get; init; }

    /// <summary>The <c>S3Path</c> and <c>Compression</c> of new batches; a batch's retries keep those it started with.</summary>
    public required ObjectLayout Layout { get; init; }

    public S3StorageClass? StorageClass { get; init; }

    public ServerSideEncryptionMethod? ServerSideEncryption { get; init; }

    public string? SseKmsKeyId { get; init; }

    /// <summary>The tags, or null when there are none (the SDK then sends no tagging header).</summary>
    public List<Tag>? Tags { get; init; }

    public required long MultipartThreshold { get; init; }

    public required long MultipartPartSize { get; init; }

    public required int MultipartConcurrency { get; init; }

    public required bool ConditionalWrites { get; init; }

    /// <summary>Checks every option, the file options with <see cref="ExportFileEncoder.Create"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public static S3ExportSettings Create(S3ExporterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var encoder = ExportFileEncoder.Create(options, EventType.Feature);
        return Create(options, encoder);
    }

    /// <summary>Checks every S3-specific option; the file options were checked by <paramref name="encoder"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public static S3ExportSettings Create(S3ExporterOptions options, ExportFileEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(options);
        string bucket = options.Bucket?.Trim() ?? "";
        if (bucket.Length == 0)
        {
            throw S3ExportSettings.InvalidOption("Bucket is required: set it to the name of the S3 bucket to write to.", nameof(options.Bucket));
        }

        if (bucket.AsSpan().IndexOfAny('/', '\\') >= 0 || bucket.Any(char.IsWhiteSpace) || bucket.Any(char.IsControl))
        {
            throw S3ExportSettings.InvalidOption($"Bucket '{options.Bucket}' is not a bucket name: it cannot contain '/', '\\' or white space (write folders in S3Path).", nameof(options.Bucket));
        }

        var layout = ObjectLayout.Create(encoder, options.S3Path, nameof(options.S3Path), options.Compression, nameof(options.Compression));
        int longestKey = layout.LongestName(Encoding.UTF8);
        if (longestKey > MaxKeyBytes)
        {
            throw S3ExportSettings.InvalidOption(
                $"S3Path '{options.S3Path}' and Filename '{options.Filename}' can give keys of up to {longestKey} bytes on this host (a -N suffix included), more than the {MaxKeyBytes} S3 accepts; shorten them.",
                nameof(options.Filename));
        }

        if (options.MultipartPartSize is < S3ExporterOptions.MinMultipartPartSize or > S3ExporterOptions.MaxMultipartPartSize)
        {
            throw S3ExportSettings.InvalidOption(
                $"MultipartPartSize {options.MultipartPartSize} is out of range: S3 accepts parts of 5 MiB ({S3ExporterOptions.MinMultipartPartSize}) to 5 GiB ({S3ExporterOptions.MaxMultipartPartSize}) bytes.",
                nameof(options.MultipartPartSize));
        }

        if (options.MultipartThreshold < S3ExporterOptions.MinMultipartPartSize)
        {
            throw S3ExportSettings.InvalidOption(
                $"MultipartThreshold {options.MultipartThreshold} is too small: it must be at least 5 MiB ({S3ExporterOptions.MinMultipartPartSize} bytes), the smallest part S3 accepts.",
                nameof(options.MultipartThreshold));
        }

        if (options.MultipartConcurrency is < 1 or > MaxMultipartConcurrency)
        {
            throw S3ExportSettings.InvalidOption(
                $"MultipartConcurrency {options.MultipartConcurrency} is out of range: it must be between 1 and {MaxMultipartConcurrency}.",
                nameof(options.MultipartConcurrency));
        }

        return new S3ExportSettings
        {
            Bucket = bucket,
            Layout = layout,
            StorageClass = ParseStorageClass(options.StorageClass),
            ServerSideEncryption = ParseServerSideEncryption(options.ServerSideEncryption, options.SseKmsKeyId),
            SseKmsKeyId = string.IsNullOrWhiteSpace(options.SseKmsKeyId) ? null : options.SseKmsKeyId.Trim(),
            Tags = ParseTags(options.Tags),
            MultipartThreshold = options.MultipartThreshold,
            MultipartPartSize = options.MultipartPartSize,
            MultipartConcurrency = options.MultipartConcurrency,
            ConditionalWrites = options.ConditionalWrites,
        };
    }

    /// <summary>The error for an invalid option: an <see cref="ArgumentException"/> whose parameter name is the option's.</summary>
    internal static ArgumentException InvalidOption(string message, string optionName) => new(message, optionName);


    private static S3StorageClass? ParseStorageClass(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        // S3-compatible servers define their own classes (Ceph placement targets), so only the shape is checked.
        string trimmed = value.Trim();
        if (!trimmed.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw S3ExportSettings.InvalidOption(
                $"StorageClass '{value}' is not a storage class name (letters, digits, '_' and '-'), for example STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR.",
                nameof(S3ExporterOptions.StorageClass));
        }

        return S3StorageClass.FindValue(trimmed.ToUpperInvariant());
    }

    private static ServerSideEncryptionMethod? ParseServerSideEncryption(string? value, string? kmsKeyId)
    {
        ServerSideEncryptionMethod? method = null;
        if (!string.IsNullOrWhiteSpace(value))
        {
            method = value.Trim().ToUpperInvariant() switch
            {
                "AES256" => ServerSideEncryptionMethod.AES256,
                "AWS:KMS" => ServerSideEncryptionMethod.AWSKMS,
                "AWS:KMS:DSSE" => ServerSideEncryptionMethod.AWSKMSDSSE,
                _ => throw S3ExportSettings.InvalidOption(
                    $"ServerSideEncryption '{value}' is not valid; valid values are AES256, aws:kms and aws:kms:dsse.",
                    nameof(S3ExporterOptions.ServerSideEncryption)),
            };
        }

        if (!string.IsNullOrWhiteSpace(kmsKeyId) && method != ServerSideEncryptionMethod.AWSKMS && method != ServerSideEncryptionMethod.AWSKMSDSSE)
        {
            throw S3ExportSettings.InvalidOption(
                $"SseKmsKeyId '{kmsKeyId}' requires ServerSideEncryption 'aws:kms' (it is '{value}').",
                nameof(S3ExporterOptions.SseKmsKeyId));
        }

        return method;
    }

    private static List<Tag>? ParseTags(IDictionary<string, string>? tags)
    {
        if (tags is null || tags.Count == 0)
        {
            return null;
        }

        if (tags.Count > MaxTags)
        {
            throw S3ExportSettings.InvalidOption($"Tags has {tags.Count} entries; S3 allows at most {MaxTags} tags per object.", nameof(S3ExporterOptions.Tags));
        }

        var list = new List<Tag>(tags.Count);
        foreach ((string key, string value) in tags.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            if (string.IsNullOrEmpty(key) || key.Length > MaxTagKeyLength)
            {
                throw S3ExportSettings.InvalidOption($"Tags key '{key}' must have 1 to {MaxTagKeyLength} characters.", nameof(S3ExporterOptions.Tags));
            }

            if ((value?.Length ?? 0) > MaxTagValueLength)
            {
                throw S3ExportSettings.InvalidOption($"Tags['{key}'] value '{value}' is longer than {MaxTagValueLength} characters.", nameof(S3ExporterOptions.Tags));
            }

            list.Add(new Tag { Key = key, Value = value ?? "" });
        }

        return list;
    }
}

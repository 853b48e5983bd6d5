using FlagExport.S3;

namespace FlagExport.Collector.Configuration;

/// <summary>An entry of kind <c>s3</c>. Credentials come from the AWS SDK's default chain, never from here.</summary>
internal sealed class S3ExporterSpec : ExporterSpec
{
    public required S3ExporterOptions Options { get; init; }

    public override string Kind => "s3";

    protected override ExportFileOptions FileOptions => Options;

    protected override string Destination =>
        $"s3://{Options.Bucket}/{Options.S3Path?.Trim('/')}" + (Options.ServiceUrl is null ? "" : $" at {Options.ServiceUrl}");

    public override void Register(FlagExportBuilder builder) =>
        builder.AddS3Exporter(Name, CopyTo, Pipeline.Apply);

    /// <summary>Copies the options read from the configuration onto the ones the exporter is built from.</summary>
    internal void CopyTo(S3ExporterOptions target)
    {
        target.Bucket = Options.Bucket;
        target.S3Path = Options.S3Path;
        CopyFileOptionsTo(target);
        target.ServiceUrl = Options.ServiceUrl;
        target.ForcePathStyle = Options.ForcePathStyle;
        target.Region = Options.Region;
        target.StorageClass = Options.StorageClass;
        target.Compression = Options.Compression;
        target.RequestChecksumCalculation = Options.RequestChecksumCalculation;
        target.ServerSideEncryption = Options.ServerSideEncryption;
        target.SseKmsKeyId = Options.SseKmsKeyId;
        target.MultipartThreshold = Options.MultipartThreshold;
        target.MultipartPartSize = Options.MultipartPartSize;
        target.MultipartConcurrency = Options.MultipartConcurrency;
        target.VerifyBucketOnStart = Options.VerifyBucketOnStart;
        target.ConditionalWrites = Options.ConditionalWrites;
        foreach (KeyValuePair<string, string> tag in Options.Tags)
        {
            target.Tags[tag.Key] = tag.Value;
        }
    }
}

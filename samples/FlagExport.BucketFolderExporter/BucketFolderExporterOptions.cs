namespace FlagExport.BucketFolderExporter;

/// <summary>
/// Where a <see cref="BucketFolderExporter"/> writes: a folder laid out like a bucket, with the same format, file name
/// and partition options as the S3 exporter.
/// </summary>
public sealed class BucketFolderExporterOptions : ExportFileOptions
{
    /// <summary>The folder that plays the bucket; required.</summary>
    public string RootDirectory { get; set; } = "";

    /// <summary>
    /// The key prefix inside the folder, with the same date fields as the S3 exporter's <c>S3Path</c>, for example
    /// <c>year={{ .Year}}/month={{ .Month}}/day={{ .Day}}/</c>. The default is none.
    /// </summary>
    public string Path { get; set; } = "";
}

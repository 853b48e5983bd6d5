namespace FlagExport.S3;

/// <summary>Builds object keys from the rendered <c>S3Path</c> and a file name.</summary>
internal static class ObjectKeys
{
    /// <summary>
    /// The key prefix for a rendered <c>S3Path</c>: its non-empty <c>/</c>-separated segments joined by one <c>/</c>,
    /// with a trailing <c>/</c> unless empty. <c>/go-feature-flag//variations/</c> → <c>go-feature-flag/variations/</c>.
    /// </summary>
    public static string NormalizePrefix(string s3Path)
    {
        ArgumentNullException.ThrowIfNull(s3Path);
        string[] segments = s3Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length == 0 ? "" : string.Join('/', segments) + "/";
    }

    /// <summary>
    /// The key of the <paramref name="suffix"/>-th candidate name: <c>prefix + name-N.ext + compressionExtension</c>,
    /// where suffix 0 leaves the name as it is (the same rule as the file exporter's).
    /// </summary>
    public static string Compose(string prefix, string fileName, string compressionExtension, int suffix) =>
        string.Concat(prefix, AtomicFile.WithSuffix(fileName, suffix), compressionExtension);
}

namespace FlagExport.S3;

/// <summary>Builds object keys from a partition's path and a file name.</summary>
internal static class ObjectKeys
{
    /// <summary>
    /// The key of the <paramref name="suffix"/>-th candidate name: <c>prefix + name-N.ext + compressionExtension</c>,
    /// where suffix 0 leaves the name as it is (the same rule as the file exporter's).
    /// </summary>
    public static string Compose(string prefix, string fileName, string compressionExtension, int suffix) =>
        string.Concat(prefix, ExportFileEncoder.WithSuffix(fileName, suffix), compressionExtension);
}

namespace FlagExport.AzureBlob;

/// <summary>Builds blob names from a partition's path and a file name.</summary>
internal static class BlobNames
{
    /// <summary>
    /// The <paramref name="suffix"/>-th candidate name: <c>prefix + name-N.ext + compressionExtension</c>, where suffix 0
    /// leaves the name as it is (the file exporter's rule).
    /// </summary>
    public static string Compose(string prefix, string fileName, string compressionExtension, int suffix) =>
        string.Concat(prefix, ExportFileEncoder.WithSuffix(fileName, suffix), compressionExtension);
}

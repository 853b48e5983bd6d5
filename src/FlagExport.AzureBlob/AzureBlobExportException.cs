namespace FlagExport.AzureBlob;

/// <summary>
/// A Blob Storage request of the <see cref="AzureBlobExporter"/> failed: an upload, or the container check at start-up.
/// The message names the container, the blob and the reason; the Azure SDK's exception is the <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class AzureBlobExportException : Exception, IExportFailure
{
    /// <summary>Creates an exception with a default message.</summary>
    public AzureBlobExportException()
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/>.</summary>
    public AzureBlobExportException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    public AzureBlobExportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal AzureBlobExportException(string message, string container, string? blobName, BlobFailureReason reason, Exception? innerException)
        : base(message, innerException)
    {
        Container = container;
        BlobName = blobName;
        ErrorCode = reason.ErrorCode;
        Status = reason.Status;
        _permanent = reason.IsPermanent;
    }

    private readonly bool _permanent;

    /// <summary>The container of the failed request.</summary>
    public string? Container { get; }

    /// <summary>The blob of the failed upload, or <see langword="null"/> for a container check.</summary>
    public string? BlobName { get; }

    /// <summary>The storage error code, such as <c>ContainerNotFound</c>, or <see langword="null"/> when the service did not answer.</summary>
    public string? ErrorCode { get; }

    /// <summary>The HTTP status the service answered with, or 0 when it did not answer (network failure).</summary>
    public int Status { get; }

    /// <summary>
    /// Whether retrying cannot help until something is fixed: the container does not exist, the credentials are wrong or
    /// lack permission, every free name is taken. Network errors, timeouts, 5xx and throttling are transient.
    /// </summary>
    public bool IsPermanent => _permanent;

    /// <inheritdoc/>
    string IExportFailure.Reason => Message;
}

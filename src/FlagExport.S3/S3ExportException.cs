using System.Net;

namespace FlagExport.S3;

/// <summary>
/// An S3 request of the <see cref="S3Exporter"/> failed: an upload, or the bucket check at start-up. The message says
/// which bucket, which key and why, in words (no such bucket, access denied, wrong credentials, connection refused…);
/// the S3 SDK's exception is the <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class S3ExportException : Exception, IExportFailure
{
    /// <summary>Creates an exception with a default message.</summary>
    public S3ExportException()
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/>.</summary>
    public S3ExportException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    public S3ExportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A failure that no retry can heal, named by the exporter itself rather than by an S3 error code.</summary>
    internal S3ExportException(string message, string bucket, string? key, bool permanent)
        : base(message)
    {
        Bucket = bucket;
        Key = key;
        _permanent = permanent;
    }

    internal S3ExportException(string message, string bucket, string? key, S3FailureReason reason, Exception innerException)
        : base(message, innerException)
    {
        Bucket = bucket;
        Key = key;
        ErrorCode = reason.ErrorCode;
        StatusCode = reason.StatusCode;
    }

    private readonly bool _permanent;

    /// <summary>The bucket of the failed request.</summary>
    public string? Bucket { get; }

    /// <summary>The object key of the failed upload, or <see langword="null"/> for a bucket check.</summary>
    public string? Key { get; }

    /// <summary>The S3 error code, such as <c>NoSuchBucket</c> or <c>AccessDenied</c>, or <see langword="null"/> when S3 did not answer.</summary>
    public string? ErrorCode { get; }

    /// <summary>The HTTP status S3 answered with, or <see langword="null"/> when it did not answer (network failure).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>
    /// Whether retrying cannot help until something is fixed: the bucket does not exist, access is denied, the credentials
    /// or the KMS key are wrong, every free key for an object's name is taken. Network errors, timeouts, 5xx and throttling
    /// are transient.
    /// </summary>
    public bool IsPermanent => _permanent || ErrorCode is "NoSuchBucket" or "AccessDenied" or "InvalidAccessKeyId" or "SignatureDoesNotMatch"
        or "KMS.NotFoundException" or "InvalidStorageClass" or "InvalidBucketName" or "AllAccessDisabled" or "AccountProblem";

    /// <inheritdoc/>
    string IExportFailure.Reason => Message;
}

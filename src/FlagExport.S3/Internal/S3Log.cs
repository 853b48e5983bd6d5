using Microsoft.Extensions.Logging;

namespace FlagExport.S3;

/// <summary>
/// Source-generated log messages of the S3 exporter. Event ids (100 and up, apart from the pipeline's) and names are
/// stable: never renumber or rename one. Messages name the bucket and key, never credentials.
/// </summary>
internal static partial class S3Log
{
    /// <summary>Stable event ids.</summary>
    internal static class Ids
    {
        /// <summary>An upload failed; the pipeline keeps the batch and retries.</summary>
        internal const int UploadFailed = 101;

        /// <summary>A multipart upload failed and was aborted.</summary>
        internal const int MultipartAborted = 102;

        /// <summary>Aborting a failed multipart upload failed too: its parts stay until a lifecycle rule removes them.</summary>
        internal const int MultipartAbortFailed = 103;

        /// <summary>The key was taken by another object; the next free name is tried.</summary>
        internal const int KeyTaken = 104;

        /// <summary>An object was written.</summary>
        internal const int ObjectWritten = 105;

        /// <summary>The start-up bucket check passed.</summary>
        internal const int BucketVerified = 106;

        /// <summary>The start-up bucket check failed.</summary>
        internal const int BucketCheckFailed = 107;

        /// <summary>A retried upload found the object its earlier attempt had written.</summary>
        internal const int AlreadyWritten = 108;

        /// <summary>An object was written, but the server did not confirm the server-side encryption asked for.</summary>
        internal const int EncryptionNotConfirmed = 109;

        /// <summary>The same, for every later object of the exporter (at Debug: the warning was given once).</summary>
        internal const int EncryptionNotConfirmedAgain = 110;

        /// <summary>An object was written, but setting its tags after a multipart upload failed.</summary>
        internal const int TaggingFailed = 111;
    }

    // Debug: the exporter throws and the pipeline gives the one warning per attempt; this adds the key.
    [LoggerMessage(EventId = Ids.UploadFailed, EventName = "UploadFailed", Level = LogLevel.Debug,
        Message = "Upload of {EventCount} events to s3://{Bucket}/{Key} failed: {Reason}.")]
    internal static partial void UploadFailed(this ILogger logger, string bucket, string key, int eventCount, string reason);

    [LoggerMessage(EventId = Ids.MultipartAborted, EventName = "MultipartAborted", Level = LogLevel.Debug,
        Message = "Aborted multipart upload {UploadId} of s3://{Bucket}/{Key} after a failure.")]
    internal static partial void MultipartAborted(this ILogger logger, string bucket, string key, string uploadId);

    [LoggerMessage(EventId = Ids.MultipartAbortFailed, EventName = "MultipartAbortFailed", Level = LogLevel.Error,
        Message = "Could not abort multipart upload {UploadId} of s3://{Bucket}/{Key}: {Reason}. Its parts are kept (and billed) until aborted; an AbortIncompleteMultipartUpload lifecycle rule on the bucket removes them.")]
    internal static partial void MultipartAbortFailed(this ILogger logger, string bucket, string key, string uploadId, string reason);

    [LoggerMessage(EventId = Ids.KeyTaken, EventName = "KeyTaken", Level = LogLevel.Debug,
        Message = "s3://{Bucket}/{Key} already exists; trying the next free name.")]
    internal static partial void KeyTaken(this ILogger logger, string bucket, string key);

    [LoggerMessage(EventId = Ids.ObjectWritten, EventName = "ObjectWritten", Level = LogLevel.Debug,
        Message = "Wrote {EventCount} events ({Bytes} bytes, {Parts} parts) to s3://{Bucket}/{Key}.")]
    internal static partial void ObjectWritten(this ILogger logger, string bucket, string key, int eventCount, long bytes, int parts);

    [LoggerMessage(EventId = Ids.BucketVerified, EventName = "BucketVerified", Level = LogLevel.Information,
        Message = "S3 bucket '{Bucket}' exists and the credentials can access it.")]
    internal static partial void BucketVerified(this ILogger logger, string bucket);

    [LoggerMessage(EventId = Ids.BucketCheckFailed, EventName = "BucketCheckFailed", Level = LogLevel.Error,
        Message = "S3 bucket check of '{Bucket}' failed: {Reason}.")]
    internal static partial void BucketCheckFailed(this ILogger logger, string bucket, string reason);

    [LoggerMessage(EventId = Ids.AlreadyWritten, EventName = "AlreadyWritten", Level = LogLevel.Information,
        Message = "s3://{Bucket}/{Key} was already written by an earlier attempt whose answer was lost; not written again.")]
    internal static partial void AlreadyWritten(this ILogger logger, string bucket, string key);

    [LoggerMessage(EventId = Ids.EncryptionNotConfirmed, EventName = "EncryptionNotConfirmed", Level = LogLevel.Warning,
        Message = "s3://{Bucket}/{Key} was written, but the server did not confirm the server-side encryption {Requested} (it answered '{Answered}'): the object may be stored unencrypted. radosgw 16 accepts AES256 without encrypting.")]
    internal static partial void EncryptionNotConfirmed(this ILogger logger, string bucket, string key, string requested, string answered);

    [LoggerMessage(EventId = Ids.EncryptionNotConfirmedAgain, EventName = "EncryptionNotConfirmedAgain", Level = LogLevel.Debug,
        Message = "s3://{Bucket}/{Key} was written, again without the server confirming the server-side encryption {Requested} (it answered '{Answered}').")]
    internal static partial void EncryptionNotConfirmedAgain(this ILogger logger, string bucket, string key, string requested, string answered);

    [LoggerMessage(EventId = Ids.TaggingFailed, EventName = "TaggingFailed", Level = LogLevel.Warning,
        Message = "s3://{Bucket}/{Key} was written, but its tags could not be set after the multipart upload: {Reason}. The events are exported; only the tags are missing.")]
    internal static partial void TaggingFailed(this ILogger logger, string bucket, string key, string reason);
}

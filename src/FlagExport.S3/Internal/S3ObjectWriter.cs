using System.Globalization;
using System.Runtime.InteropServices;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;

namespace FlagExport.S3;

/// <summary>The outcome of one upload attempt under one key.</summary>
internal enum UploadOutcome
{
    /// <summary>The object was written.</summary>
    Written,

    /// <summary>S3 refused to replace an existing object (If-None-Match): nothing was written.</summary>
    KeyTaken,
}

/// <summary>
/// Uploads one in-memory object: a single PutObject up to the multipart threshold, a multipart upload above it, with
/// the parts sent concurrently and the upload aborted on any failure.
/// </summary>
/// <remarks>Thread-safe; holds no state between uploads.</remarks>
internal sealed class S3ObjectWriter
{
    /// <summary>The user metadata that identifies one logical write, so a retry can recognise its own earlier object.</summary>
    public const string WriteIdMetadataKey = "flagexport-write-id";

    /// <summary>How long an abort may take once the upload failed (its own budget: the export's token may be cancelled).</summary>
    private static readonly TimeSpan AbortTimeout = TimeSpan.FromSeconds(15);

    // NotChunked: bodies are in memory, so they are signed whole (one SHA-256) rather than sent "aws-chunked".
    // radosgw 16 (Pacific) stores the "Content-Encoding: aws-chunked" of a chunked upload on the object and serves it
    // back, which confuses readers; Amazon S3 strips it. Checksums, when enabled, go in a header instead of a trailer.

    private readonly IAmazonS3 _s3;
    private readonly S3ExportSettings _settings;
    private readonly ILogger _logger;
    private int _encryptionWarned;

    public S3ObjectWriter(IAmazonS3 s3, S3ExportSettings settings, ILogger logger)
    {
        _s3 = s3;
        _settings = settings;
        _logger = logger;
    }

    /// <summary>Writes <paramref name="body"/> under <paramref name="key"/>; throws on any failure but a taken key.</summary>
    /// <param name="key">The object key.</param>
    /// <param name="body">The object's bytes, array-backed (a pooled buffer).</param>
    /// <param name="writeId">Stored as user metadata <see cref="WriteIdMetadataKey"/>.</param>
    /// <param name="conditional">Send <c>If-None-Match: *</c>.</param>
    /// <param name="content">The object's content type and encoding: those its batch recorded, not necessarily the options'.</param>
    /// <param name="cancellationToken">Cancels the upload (a multipart upload is then aborted).</param>
    /// <returns>The outcome and the number of parts sent (1 for a PutObject).</returns>
    public async Task<(UploadOutcome Outcome, int Parts)> UploadAsync(
        string key, ReadOnlyMemory<byte> body, string writeId, bool conditional, ObjectContent content, CancellationToken cancellationToken)
    {
        if (!MemoryMarshal.TryGetArray(body, out ArraySegment<byte> segment))
        {
            throw new ArgumentException("The body must be backed by an array.", nameof(body));
        }

        try
        {
            return body.Length <= _settings.MultipartThreshold
                ? (await PutAsync(key, segment, writeId, conditional, content, cancellationToken).ConfigureAwait(false), 1)
                : await MultipartAsync(key, segment, writeId, conditional, content, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception exception) when (conditional && S3FailureReason.IsKeyTaken(exception))
        {
            return (UploadOutcome.KeyTaken, 0);
        }
    }

    /// <summary>The write id stored on the object at <paramref name="key"/>, or null when it has none or is gone again.</summary>
    /// <remarks>
    /// Any error other than 404 (503 SlowDown, 500, 403) propagates: the export fails and its retry tries this same key
    /// again, instead of taking the object for another writer's and writing the batch a second time under the next name.
    /// </remarks>
    public async Task<string?> ReadWriteIdAsync(string key, CancellationToken cancellationToken) =>
        (await HeadAsync(key, cancellationToken).ConfigureAwait(false))?.Metadata[WriteIdMetadataKey];

    private async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) =>
        await HeadAsync(key, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>HeadObject on <paramref name="key"/>; null when there is no such object (404), other errors thrown.</summary>
    private async Task<GetObjectMetadataResponse?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await _s3.GetObjectMetadataAsync(
                new GetObjectMetadataRequest { BucketName = _settings.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<UploadOutcome> PutAsync(
        string key, ArraySegment<byte> body, string writeId, bool conditional, ObjectContent content, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = _settings.Bucket,
            Key = key,
            InputStream = new MemoryStream(body.Array!, body.Offset, body.Count, writable: false, publiclyVisible: true),
            AutoCloseStream = true,
            ContentType = content.ContentType,
            StorageClass = _settings.StorageClass,
            ServerSideEncryptionMethod = _settings.ServerSideEncryption,
            ServerSideEncryptionKeyManagementServiceKeyId = _settings.SseKmsKeyId,
            TagSet = _settings.Tags,
            IfNoneMatch = conditional ? "*" : null,
            UseChunkEncoding = false, // see NotChunked
        };
        request.Headers.ContentLength = body.Count;
        request.Headers.ContentEncoding = content.ContentEncoding;
        request.Metadata[WriteIdMetadataKey] = writeId;
        PutObjectResponse response = await _s3.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        CheckEncryption(key, response.ServerSideEncryptionMethod);
        return UploadOutcome.Written;
    }

    private async Task<(UploadOutcome Outcome, int Parts)> MultipartAsync(
        string key, ArraySegment<byte> body, string writeId, bool conditional, ObjectContent content, CancellationToken cancellationToken)
    {
        // Amazon S3 honours If-None-Match on CompleteMultipartUpload, but radosgw 16 ignores it there (it completes over
        // an existing object), so look first: that catches every name taken before the upload
        // starts, and the conditional completion closes the remaining window where the server supports it.
        if (conditional && await ExistsAsync(key, cancellationToken).ConfigureAwait(false))
        {
            return (UploadOutcome.KeyTaken, 0);
        }

        var initiate = new InitiateMultipartUploadRequest
        {
            BucketName = _settings.Bucket,
            Key = key,
            ContentType = content.ContentType,
            StorageClass = _settings.StorageClass,
            ServerSideEncryptionMethod = _settings.ServerSideEncryption,
            ServerSideEncryptionKeyManagementServiceKeyId = _settings.SseKmsKeyId,
            TagSet = _settings.Tags,
        };
        initiate.Headers.ContentEncoding = content.ContentEncoding;
        initiate.Metadata[WriteIdMetadataKey] = writeId;
        InitiateMultipartUploadResponse initiated = await _s3.InitiateMultipartUploadAsync(initiate, cancellationToken).ConfigureAwait(false);
        string uploadId = initiated.UploadId;

        int written;
        try
        {
            long partSize = _settings.MultipartPartSize;
            int partCount = checked((int)((body.Count + partSize - 1) / partSize));
            var parts = new PartETag[partCount];
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = _settings.MultipartConcurrency, CancellationToken = cancellationToken };

            // Parts are slices of the one pooled buffer: nothing is copied. The first failure cancels the others.
            await Parallel.ForEachAsync(Enumerable.Range(1, partCount), parallel, async (partNumber, token) =>
            {
                long offset = (partNumber - 1) * partSize;
                int size = (int)Math.Min(partSize, body.Count - offset);
                var part = new UploadPartRequest
                {
                    BucketName = _settings.Bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartNumber = partNumber,
                    PartSize = size,
                    IsLastPart = partNumber == partCount,
                    InputStream = new MemoryStream(body.Array!, body.Offset + (int)offset, size, writable: false, publiclyVisible: true),
                    UseChunkEncoding = false, // see NotChunked
                };
                UploadPartResponse response = await _s3.UploadPartAsync(part, token).ConfigureAwait(false);
                parts[partNumber - 1] = new PartETag(response) { PartNumber = partNumber };
            }).ConfigureAwait(false);

            var complete = new CompleteMultipartUploadRequest
            {
                BucketName = _settings.Bucket,
                Key = key,
                UploadId = uploadId,
                PartETags = [.. parts],
                IfNoneMatch = conditional ? "*" : null,
            };
            CompleteMultipartUploadResponse completed = await _s3.CompleteMultipartUploadAsync(complete, cancellationToken).ConfigureAwait(false);

            // radosgw 16 confirms the encryption when the upload starts, not when it completes.
            CheckEncryption(key, IsEmpty(completed.ServerSideEncryptionMethod) ? initiated.ServerSideEncryptionMethod : completed.ServerSideEncryptionMethod);
            written = partCount;
        }
        catch
        {
            await AbortAsync(key, uploadId).ConfigureAwait(false);
            throw;
        }

        // Outside the try: the object exists now, there is nothing to abort.
        await TryApplyTagsAsync(key, cancellationToken).ConfigureAwait(false);
        return (UploadOutcome.Written, written);
    }

    /// <summary>
    /// Sets <see cref="S3ExportSettings.Tags"/> on the object at <paramref name="key"/> (PutObjectTagging); nothing when
    /// there are none. Multipart uploads need it: radosgw 16 ignores the tags of CreateMultipartUpload (Ceph tracker
    /// 53016), which Amazon S3 applies. Setting the same tags again is harmless there.
    /// </summary>
    /// <remarks>
    /// A failure is logged (<c>TaggingFailed</c>) and not thrown: the events are written, and failing the export would
    /// report them as lost and upload them again where conditional writes are off. Tags are metadata; the data wins.
    /// </remarks>
    private async Task TryApplyTagsAsync(string key, CancellationToken cancellationToken)
    {
        if (_settings.Tags is null)
        {
            return;
        }

        try
        {
            _ = await _s3.PutObjectTaggingAsync(
                new PutObjectTaggingRequest { BucketName = _settings.Bucket, Key = key, Tagging = new Tagging { TagSet = _settings.Tags } },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            _logger.TaggingFailed(_settings.Bucket, key, S3FailureReason.Describe(exception).Text);
        }
    }

    /// <summary>
    /// Warns when the server did not confirm the server-side encryption asked for: radosgw 16 accepts AES256 and
    /// stores the object unencrypted. Amazon S3 confirms the method on every upload that has one.
    /// </summary>
    private void CheckEncryption(string key, ServerSideEncryptionMethod? answered)
    {
        if (_settings.ServerSideEncryption is { } requested
            && !string.Equals(requested.Value, answered?.Value, StringComparison.OrdinalIgnoreCase))
        {
            // A warning once per exporter (a server that ignores the setting does so for every object), then Debug.
            string answer = IsEmpty(answered) ? "none" : answered!.Value;
            if (Interlocked.Exchange(ref _encryptionWarned, 1) == 0)
            {
                _logger.EncryptionNotConfirmed(_settings.Bucket, key, requested.Value, answer);
            }
            else
            {
                _logger.EncryptionNotConfirmedAgain(_settings.Bucket, key, requested.Value, answer);
            }
        }
    }

    private static bool IsEmpty(ServerSideEncryptionMethod? method) => string.IsNullOrEmpty(method?.Value);

    private async Task AbortAsync(string key, string uploadId)
    {
        // Not the export's token: it may be the very reason for the failure, and the parts must not linger.
        using var timeout = new CancellationTokenSource(AbortTimeout);
        try
        {
            _ = await _s3.AbortMultipartUploadAsync(
                new AbortMultipartUploadRequest { BucketName = _settings.Bucket, Key = key, UploadId = uploadId }, timeout.Token).ConfigureAwait(false);
            _logger.MultipartAborted(_settings.Bucket, key, uploadId);
        }
        catch (AmazonS3Exception exception) when (exception.ErrorCode == "NoSuchUpload")
        {
            // Gone already: completed after all (its answer was lost) or aborted by the server; nothing lingers.
            _logger.MultipartAborted(_settings.Bucket, key, uploadId);
        }
#pragma warning disable CA1031 // The upload's own failure is what the caller must see; a failed abort is logged.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            _logger.MultipartAbortFailed(_settings.Bucket, key, uploadId, S3FailureReason.Describe(exception).Text);
        }
    }
}

using System.Globalization;
using Amazon.S3;
using Microsoft.Extensions.Logging;

namespace FlagExport.S3;

/// <summary>
/// One bucket as an <see cref="IObjectStore"/>: what the <see cref="ObjectStoreWriter"/> asks of S3, with each failure
/// turned into an <see cref="S3ExportException"/> that names the bucket, the key and the reason.
/// </summary>
/// <remarks>Disposes the client when it owns it; the writer disposes the store once no export runs.</remarks>
internal sealed class S3ObjectStore : IObjectStore, IDisposable
{
    /// <summary>The batch record prefix holding the suffix of a partition's first (or only) object.</summary>
    internal const string SuffixRecordPrefix = "s3.suffix:";

    private readonly IAmazonS3 _s3;
    private readonly bool _ownsClient;
    private readonly S3ExportSettings _settings;
    private readonly S3ObjectWriter _writer;
    private readonly ILogger _logger;

    public S3ObjectStore(IAmazonS3 s3, bool ownsClient, S3ExportSettings settings, ILogger logger)
    {
        _s3 = s3;
        _ownsClient = ownsClient;
        _settings = settings;
        _logger = logger;
        _writer = new S3ObjectWriter(s3, settings, logger);
    }

    public string Locate(string name) => string.Concat("s3://", _settings.Bucket, "/", name);

    /// <summary>The record names the exporter has used since its first release, which recorded batches still hold.</summary>
    /// <remarks>Part 0 keeps the record of a one-object partition, so that batches recorded before parts existed still retry alike.</remarks>
    public string SuffixRecord(string partition, int part) => part == 0
        ? SuffixRecordPrefix + partition
        : string.Create(CultureInfo.InvariantCulture, $"s3.part{part}.suffix:{partition}");

    public async Task<bool> TryCreateAsync(ObjectUpload upload, CancellationToken cancellationToken)
    {
        UploadOutcome outcome;
        int parts;
        try
        {
            (outcome, parts) = await _writer.UploadAsync(
                upload.Name, upload.Content, upload.WriteId, _settings.ConditionalWrites, new ObjectContent(upload.ContentType, upload.ContentEncoding), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            var reason = S3FailureReason.Describe(exception, storageClass: _settings.StorageClass?.Value);
            _logger.UploadFailed(_settings.Bucket, upload.Name, upload.EventCount, reason.Text);
            if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new S3ExportException(
                $"Could not write {upload.EventCount} events to {Locate(upload.Name)}: {reason.Text}.", _settings.Bucket, upload.Name, reason, exception);
        }

        if (outcome != UploadOutcome.Written)
        {
            return false;
        }

        _logger.ObjectWritten(_settings.Bucket, upload.Name, upload.EventCount, upload.Content.Length, parts);
        return true;
    }

    /// <remarks>A failure to read the write id fails the export, never the key.</remarks>
    public async Task<string?> ReadWriteIdAsync(ObjectUpload upload, CancellationToken cancellationToken)
    {
        try
        {
            return await _writer.ReadWriteIdAsync(upload.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = S3FailureReason.Describe(exception);
            throw new S3ExportException(
                $"Could not write {upload.EventCount} events to {Locate(upload.Name)}: the key is taken and its write id could not be read: {reason.Text}.",
                _settings.Bucket, upload.Name, reason, exception);
        }
    }

    public void OnNameTaken(string name) => _logger.KeyTaken(_settings.Bucket, name);

    public void OnAlreadyWritten(string name) => _logger.AlreadyWritten(_settings.Bucket, name);

    public void Dispose()
    {
        if (_ownsClient)
        {
            _s3.Dispose();
        }
    }
}

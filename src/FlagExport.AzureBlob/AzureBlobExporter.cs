using System.Globalization;
using Azure.Storage;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport.AzureBlob;

/// <summary>
/// Writes each batch as a new blob in an Azure Blob Storage container, as JSON lines, CSV or Parquet, optionally gzip- or
/// zstd-compressed: the .NET counterpart of go-feature-flag's Azure Blob Storage exporter.
/// </summary>
/// <remarks>
/// <para>The name of each blob is <see cref="AzureBlobExporterOptions.Path"/> and the rendered
/// <see cref="ExportFileOptions.Filename"/>. When <c>Path</c> holds date fields, the batch is split by each event's
/// creation hour (UTC) and every partition gets its own blob; with <see cref="ExportFileOptions.MaxBatchBytes"/> a
/// partition is cut into several blobs, each under the next free <c>-N</c> suffix.</para>
/// <para>No blob is ever replaced: each is created with <c>If-None-Match: *</c>, and names given out in this process are
/// remembered, so two flushes in the same second get <c>name.json</c> and <c>name-1.json</c>. A name taken by another
/// writer gets the next suffix.</para>
/// <para>Each blob's name is recorded in the batch (<see cref="ExportBatch.RecordAsync"/>) before its upload, and the blob
/// carries the batch's <see cref="ExportBatch.Id"/> as metadata <c>flagexport_write_id</c>: a retry of the same batch, in
/// this process or after a restart with the durable buffer, uploads under the same names, and a blob already there with
/// that id (its answer lost, or the process killed) counts as written instead of being written twice. The first attempt
/// records the encoding, the compression and the path, so every retry cuts the batch exactly so.</para>
/// <para>A failed upload throws an <see cref="AzureBlobExportException"/>; the pipeline retries or dead-letters the batch.
/// Calls to <see cref="ExportAsync"/> are serialised.</para>
/// </remarks>
public sealed class AzureBlobExporter : IEncodingExporter, IDisposable
{
    /// <summary>The batch record prefix holding, per partition and part, the suffix chosen before its upload.</summary>
    internal const string SuffixRecordPrefix = "azureblob.suffix:";

    private readonly IBlobContainer _container;
    private readonly AzureBlobSettings _settings;
    private readonly ExportFileEncoder _encoder;
    private readonly Func<PooledBufferWriter, PooledBufferWriter>? _compress;
    private readonly TimeProvider _timeProvider;
    private readonly EventType _eventType;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _disposed;
    private int _released;

    // Used only under _gate: the batch whose last export failed, and the parts of partitions it wrote.
    private (string BatchId, HashSet<(string Prefix, int Part)> Parts)? _partial;

    /// <summary>Creates an exporter, checking every option. Makes no request: see <see cref="VerifyContainerAsync"/>.</summary>
    /// <param name="options">Where and how to write.</param>
    /// <param name="containerClient">
    /// The container client to use. When null, the exporter builds one from <paramref name="options"/> and the standard
    /// Azure sources (see <see cref="AzureBlobExporterOptions"/>); its <c>Container</c> must still name the container.
    /// </param>
    /// <param name="eventType">The kind of events this exporter receives; CSV templates are checked against its fields.</param>
    /// <param name="timeProvider">The clock for <c>{{ .Timestamp}}</c>. The default is <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Receives the blobs written and taken names. The default is no logging.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public AzureBlobExporter(
        AzureBlobExporterOptions options,
        BlobContainerClient? containerClient = null,
        EventType eventType = EventType.Feature,
        TimeProvider? timeProvider = null,
        ILogger? logger = null)
        : this(options, containerClient is null ? null : new SdkBlobContainer(containerClient, Transfer(options)), Environment.GetEnvironmentVariable, eventType, timeProvider, logger)
    {
    }

    /// <summary>Creates an exporter on <paramref name="container"/> (tests), or on a client built from the options when null.</summary>
    internal AzureBlobExporter(
        AzureBlobExporterOptions options, IBlobContainer? container, Func<string, string?> environment, EventType eventType, TimeProvider? timeProvider, ILogger? logger)
    {
        (_encoder, _settings) = Check(options, eventType, container is null ? environment : null);
        _eventType = eventType;
        _logger = logger ?? NullLogger.Instance;
        if (container is null && !string.IsNullOrWhiteSpace(options.AccountKey))
        {
            _logger.AccountKeyInConfiguration(_settings.Container);
        }

        _container = container ?? new SdkBlobContainer(BlobClientFactory.Create(options, _settings.Container, environment), Transfer(options));
        _timeProvider = timeProvider ?? TimeProvider.System;
        _compress = _settings.Compression.ToCompressor();
    }

    /// <summary>Checks every option as the constructor does, without building a client; the connection options too when <paramref name="environment"/> is given.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    internal static (ExportFileEncoder Encoder, AzureBlobSettings Settings) Check(AzureBlobExporterOptions options, EventType eventType, Func<string, string?>? environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        var encoder = ExportFileEncoder.Create(options, eventType);
        try
        {
            var settings = AzureBlobSettings.Create(options, encoder);
            if (environment is not null)
            {
                BlobClientFactory.Validate(options, environment);
            }

            return (encoder, settings);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>How the SDK splits an upload: one Put Blob up to the threshold, concurrent blocks above it.</summary>
    private static StorageTransferOptions Transfer(AzureBlobExporterOptions options) => new()
    {
        InitialTransferSize = options.SingleUploadThreshold,
        MaximumTransferSize = options.BlockSize,
        MaximumConcurrency = 4,
    };

    /// <summary>The names given out; process-wide, replaced by tests that play two processes.</summary>
    internal BlobNameReservations Reservations { get; set; } = BlobNameReservations.Shared;

    /// <inheritdoc/>
    public EventType EventType => _eventType;

    /// <summary>The container the blobs are written to.</summary>
    public string Container => _settings.Container;

    /// <summary>
    /// Creates an exporter and, when <see cref="AzureBlobExporterOptions.VerifyContainerOnStart"/> is set, checks the
    /// container with <see cref="VerifyContainerAsync"/> before returning it.
    /// </summary>
    /// <param name="options">Where and how to write.</param>
    /// <param name="containerClient">The container client to use; when null, the exporter builds one.</param>
    /// <param name="eventType">The kind of events this exporter receives.</param>
    /// <param name="timeProvider">The clock for <c>{{ .Timestamp}}</c>.</param>
    /// <param name="logger">Receives the blobs written and the result of the check.</param>
    /// <param name="cancellationToken">Cancels the container check.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    /// <exception cref="AzureBlobExportException">The container check failed.</exception>
    public static async Task<AzureBlobExporter> CreateAsync(
        AzureBlobExporterOptions options,
        BlobContainerClient? containerClient = null,
        EventType eventType = EventType.Feature,
        TimeProvider? timeProvider = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        var exporter = new AzureBlobExporter(options, containerClient, eventType, timeProvider, logger);
        if (options.VerifyContainerOnStart)
        {
            try
            {
                await exporter.VerifyContainerAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                exporter.Dispose();
                throw;
            }
        }

        return exporter;
    }

    /// <summary>Checks that the container exists and that the credentials may read its properties.</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="AzureBlobExportException">The container does not exist, the credentials are refused, or the service cannot be reached.</exception>
    public async Task VerifyContainerAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            await _container.CheckAsync(cancellationToken).ConfigureAwait(false);
            _logger.ContainerVerified(_settings.Container, _container.ServiceUri);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = BlobFailureReason.Describe(exception);
            _logger.ContainerCheckFailed(_settings.Container, _container.ServiceUri, reason.Text);
            throw new AzureBlobExportException(
                $"Blob container '{_settings.Container}' at {_container.ServiceUri} cannot be used: {reason.Text}.", _settings.Container, blobName: null, reason, exception);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="AzureBlobExportException">An upload failed; the message names the container, the blob and the reason.</exception>
    /// <exception cref="ObjectDisposedException">The exporter was disposed.</exception>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Events.Count == 0)
        {
            return;
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A retry of the batch that failed last time skips the parts it wrote; after a restart that memory is gone,
            // and the recorded names plus the write id find them instead.
            HashSet<(string, int)> written = _partial is { } partial && partial.BatchId == batch.Id ? partial.Parts : [];
            _partial = null;
            try
            {
                BlobBatchLayout current = BlobBatchLayout.Of(_settings);
                using BatchEncoding encoding = await _encoder.BeginAsync(batch, _timeProvider.GetUtcNow(), current.Format(), cancellationToken).ConfigureAwait(false);
                BlobBatchLayout layout = BlobBatchLayout.Parse(encoding.ExporterSettings, current, batch.Id);
                Func<PooledBufferWriter, PooledBufferWriter>? compress = layout.Compression == _settings.Compression ? _compress : layout.Compression.ToCompressor();
                var headers = new BlobContent(encoding.Encoder.ContentType, layout.Compression.ContentEncoding());
                string extension = layout.Compression.FileExtension();
                foreach ((string prefix, IReadOnlyList<ExportableEvent> partition) in layout.Path.Partition(batch.Events))
                {
                    await foreach (EncodedPart part in encoding.EncodePartsAsync(
                        prefix, partition, compress, (index, _) => ValueTask.FromResult(written.Contains((prefix, index))), cancellationToken).ConfigureAwait(false))
                    {
                        using (part)
                        {
                            await WriteBlobAsync(prefix, encoding.FileName, extension, headers, part, batch, cancellationToken).ConfigureAwait(false);
                            _ = written.Add((prefix, part.Index));
                        }
                    }
                }
            }
            catch
            {
                _partial = (batch.Id, written);
                throw;
            }
        }
        finally
        {
            _ = _gate.Release();

            // Disposed while this export ran (abandoned at a shutdown deadline): the encoder was left for it, release it now.
            if (Volatile.Read(ref _disposed) != 0)
            {
                ReleaseIfIdle();
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask<(PooledBufferWriter Content, string FileName)> EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        PooledBufferWriter encoded = await _encoder.EncodeAsync(events, cancellationToken).ConfigureAwait(false);
        string name = "object." + _encoder.FileExtension + _settings.Compression.FileExtension();
        if (_compress is not { } compress)
        {
            return (encoded, name);
        }

        using (encoded)
        {
            return (compress(encoded), name);
        }
    }

    /// <summary>Returns the encoder's pooled buffers; later exports throw <see cref="ObjectDisposedException"/>.</summary>
    /// <remarks>The container client holds no unmanaged resources (its HTTP pipeline is shared), so there is nothing else to release.</remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            ReleaseIfIdle();
        }
    }

    /// <summary>Returns the encoder's buffers, once, unless an export holds the gate (it calls again when it ends).</summary>
    /// <remarks>
    /// Dispose sets the flag then tries the gate; an export releases the gate then reads the flag. Both are full fences,
    /// so at least one side sees the other: the buffers are returned once, never under a running export.
    /// </remarks>
    private void ReleaseIfIdle()
    {
        if (!_gate.Wait(0))
        {
            return;
        }

        try
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                _encoder.Dispose();
            }
        }
        finally
        {
            _ = _gate.Release();
        }
    }

    /// <summary>The batch record of the suffix of part <paramref name="part"/> of the partition <paramref name="prefix"/>.</summary>
    internal static string SuffixRecord(string prefix, int part) =>
        string.Create(CultureInfo.InvariantCulture, $"{SuffixRecordPrefix}{part}:{prefix}");

    private async Task WriteBlobAsync(
        string prefix, string fileName, string extension, BlobContent headers, EncodedPart part, ExportBatch batch, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> body = part.Content.WrittenMemory;
        int eventCount = part.Events.Count;

        // The name is chosen and recorded before the upload: an attempt after a crash uploads under the same name, where
        // If-None-Match and the write id recognise the blob if it is already there.
        string suffixRecord = SuffixRecord(prefix, part.Index);
        string baseName = BlobNames.Compose(prefix, fileName, extension, 0);
        int suffix;
        if (batch.GetRecorded(suffixRecord) is { } recorded)
        {
            suffix = int.Parse(recorded, CultureInfo.InvariantCulture);
        }
        else
        {
            // A later part takes a suffix after its previous part's, so the names of a batch's parts sort in order.
            int after = part.Index > 0 && batch.GetRecorded(SuffixRecord(prefix, part.Index - 1)) is { } previous
                ? int.Parse(previous, CultureInfo.InvariantCulture)
                : -1;
            suffix = Reserve(baseName, after);
            await batch.RecordAsync(suffixRecord, suffix.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            string blobName = BlobNames.Compose(prefix, fileName, extension, suffix);
            if (await TryCreateAsync(blobName, body, headers, batch.Id, eventCount, cancellationToken).ConfigureAwait(false))
            {
                _logger.BlobWritten(_settings.Container, blobName, eventCount, body.Length);
                batch.ReportWritten($"{_container.ContainerUri.AbsoluteUri.TrimEnd('/')}/{blobName}", eventCount, body.Length);
                return;
            }

            // The name exists: our own earlier attempt (its answer lost), or another writer's blob.
            if (await ReadWriteIdAsync(blobName, eventCount, cancellationToken).ConfigureAwait(false) == batch.Id)
            {
                _logger.AlreadyWritten(_settings.Container, blobName);
                return;
            }

            _logger.NameTaken(_settings.Container, blobName);
            suffix = Reserve(baseName, after: suffix);
            await batch.RecordAsync(suffixRecord, suffix.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The next suffix for <paramref name="baseName"/> after <paramref name="after"/>, within <see cref="ExportFileEncoder.MaxSuffix"/>.</summary>
    private int Reserve(string baseName, int after)
    {
        int suffix = Reservations.Reserve(_container.ServiceUri.AbsoluteUri + " " + _settings.Container, baseName, after);
        return suffix <= ExportFileEncoder.MaxSuffix
            ? suffix
            : throw new AzureBlobExportException(
                $"Could not find a free name for blob '{baseName}' in container '{_settings.Container}' after {ExportFileEncoder.MaxSuffix} attempts.",
                _settings.Container, baseName, BlobFailureReason.Permanent("every suffix is taken"), innerException: null);
    }

    private async Task<bool> TryCreateAsync(
        string blobName, ReadOnlyMemory<byte> body, BlobContent headers, string writeId, int eventCount, CancellationToken cancellationToken)
    {
        try
        {
            return await _container.TryCreateAsync(blobName, body, headers, writeId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = BlobFailureReason.Describe(exception);
            throw new AzureBlobExportException(
                $"Could not write {eventCount} events to blob '{blobName}' in container '{_settings.Container}' at {_container.ServiceUri}: {reason.Text}.",
                _settings.Container, blobName, reason, exception);
        }
    }

    /// <summary>The write id of the blob at a taken name; a failure to read it fails the export, never the name.</summary>
    private async Task<string?> ReadWriteIdAsync(string blobName, int eventCount, CancellationToken cancellationToken)
    {
        try
        {
            return await _container.ReadWriteIdAsync(blobName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = BlobFailureReason.Describe(exception);
            throw new AzureBlobExportException(
                $"Could not write {eventCount} events to blob '{blobName}' in container '{_settings.Container}': the name is taken and its write id could not be read: {reason.Text}.",
                _settings.Container, blobName, reason, exception);
        }
    }
}

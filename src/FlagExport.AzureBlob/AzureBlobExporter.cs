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
    private readonly IBlobContainer _container;
    private readonly AzureBlobSettings _settings;
    private readonly ObjectStoreWriter _writer; // names, records, retries and encoding: everything but the Blob API
    private readonly EventType _eventType;
    private readonly ILogger _logger;
    private int _disposed;

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
        (ExportFileEncoder encoder, _settings) = Check(options, eventType, container is null ? environment : null);
        try
        {
            _eventType = eventType;
            _logger = logger ?? NullLogger.Instance;
            if (container is null && !string.IsNullOrWhiteSpace(options.AccountKey))
            {
                _logger.AccountKeyInConfiguration(_settings.Container);
            }

            _container = container ?? new SdkBlobContainer(BlobClientFactory.Create(options, _settings.Container, environment), Transfer(options));
        }
        catch
        {
            encoder.Dispose();
            throw;
        }

        _writer = new ObjectStoreWriter(new BlobObjectStore(_container, _settings.Container, _logger), encoder, _settings.Layout, timeProvider);
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

    /// <summary>The shared writer; tests that play two processes give it names of its own.</summary>
    internal ObjectStoreWriter Writer => _writer;

    /// <inheritdoc/>
    public EventType EventType => _eventType;

    /// <summary>The container the blobs are written to.</summary>
    internal string Container => _settings.Container;

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
    /// <exception cref="IOException">Every suffix of a blob's name is taken (permanent: the batch becomes a dead letter).</exception>
    /// <exception cref="ObjectDisposedException">The exporter was disposed.</exception>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this); // a faulted task, as every failure of an export
        await _writer.ExportAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    ValueTask<(PooledBufferWriter Content, string FileName)> IEncodingExporter.EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken) =>
        _writer.EncodeObjectAsync(events, cancellationToken);

    /// <summary>
    /// Returns the encoder's pooled buffers; later exports throw <see cref="ObjectDisposedException"/>. An export still
    /// running (abandoned at a shutdown deadline) keeps them until it ends.
    /// </summary>
    /// <remarks>The container client holds no unmanaged resources (its HTTP pipeline is shared), so there is nothing else to release.</remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _writer.Dispose();
        }
    }
}

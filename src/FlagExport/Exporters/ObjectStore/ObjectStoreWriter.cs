using System.Globalization;

namespace FlagExport;

/// <summary>
/// Writes batches as new objects in an <see cref="IObjectStore"/>, exactly once across retries, restarts and other
/// writers: the object-store half of an exporter, which supplies only the store.
/// </summary>
/// <remarks>
/// <para>A batch is split by <see cref="ObjectLayout"/>'s path into partitions, each cut into parts
/// (<see cref="ExportFileOptions.MaxBatchBytes"/>); part <c>i</c> of a partition is the object
/// <c>path + file name-N.ext + compression extension</c>, where <c>N</c> (none for 0) is the first suffix this process
/// has not given out, and a later part's suffix is above its previous part's.</para>
/// <para>Invariant: a part's suffix is recorded in the batch (<see cref="ExportBatch.RecordAsync"/>) before the object
/// is created, and the object carries the batch's <see cref="ExportBatch.Id"/> as its write id. So an attempt, in this
/// process or after a restart with the durable buffer, writes each part under its recorded name; where it finds the
/// name taken, the write id says whether the object is its own (an earlier attempt whose answer was lost: done) or
/// another writer's (the next free suffix, recorded before the next try). No object is replaced, none written twice.</para>
/// <para>The batch's first attempt records its encoding, layout and part ranges (<see cref="ExportFileEncoder.BeginAsync"/>),
/// so every attempt cuts, encodes and compresses the batch as it did, whatever the options are by then.</para>
/// <para>Calls to <see cref="ExportAsync"/> are serialised. The writer owns the encoder and the store.</para>
/// </remarks>
public sealed class ObjectStoreWriter : IDisposable
{
    private readonly IObjectStore _store;
    private readonly ExportFileEncoder _encoder;
    private readonly ObjectLayout _layout;
    private readonly Func<PooledBufferWriter, PooledBufferWriter>? _compress; // null for no compression
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _disposeRequested;
    private int _resourcesReleased;

    // Used only under _gate: the batch whose last export failed, and the parts of partitions it wrote.
    private (string BatchId, HashSet<(string Prefix, int Part)> Parts)? _partial;

    /// <summary>Creates a writer of <paramref name="store"/>'s objects, which owns <paramref name="store"/> and <paramref name="encoder"/> from now on.</summary>
    /// <param name="store">Where the objects go.</param>
    /// <param name="encoder">The encoder of the exporter's options.</param>
    /// <param name="layout">The path and compression of the exporter's options, checked with <paramref name="encoder"/>.</param>
    /// <param name="timeProvider">The clock for <c>{{ .Timestamp}}</c>. The default is <see cref="TimeProvider.System"/>.</param>
    public ObjectStoreWriter(IObjectStore store, ExportFileEncoder encoder, ObjectLayout layout, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(layout);
        _store = store;
        _encoder = encoder;
        _layout = layout;
        _compress = layout.Compression.ToCompressor();
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// The names given out, so that the same name is not tried twice; <see cref="ObjectNameReservations.Shared"/> unless
    /// set. A writer with its own instance behaves as if it ran in another process (tests simulate other writers so).
    /// </summary>
    internal ObjectNameReservations Reservations { get; set; } = ObjectNameReservations.Shared;

    /// <summary>Writes <paramref name="batch"/>'s objects: those its earlier attempts did not write, each once.</summary>
    /// <param name="batch">The batch; nothing is written for one without events.</param>
    /// <param name="cancellationToken">Cancels the attempt; what was written stays written and is recognised by the next.</param>
    /// <exception cref="ExportEncodingException">The batch cannot be encoded, or its records cannot be read: retrying cannot help.</exception>
    /// <exception cref="IOException">Every suffix of a name, up to <see cref="ExportFileEncoder.MaxSuffix"/>, is taken (an <see cref="IExportFailure"/>, permanent).</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    /// <remarks>The store's own exceptions pass through.</remarks>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Events.Count == 0)
        {
            return;
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposeRequested) != 0, this); // not after an abandoned export
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposeRequested) != 0, this);

            // A retry of the batch that failed last time skips the parts it wrote; after a restart that memory is gone,
            // and the recorded names plus the write id find them instead (at the cost of one request each).
            HashSet<(string, int)> written = _partial is { } partial && partial.BatchId == batch.Id ? partial.Parts : [];
            _partial = null;
            try
            {
                using BatchEncoding encoding = await _encoder.BeginAsync(batch, _timeProvider.GetUtcNow(), _layout.Format(), cancellationToken).ConfigureAwait(false);
                ObjectLayout layout = _layout.Parse(encoding.ExporterSettings, batch.Id);
                Func<PooledBufferWriter, PooledBufferWriter>? compress = layout.Compression == _layout.Compression ? _compress : layout.Compression.ToCompressor();
                foreach ((string prefix, IReadOnlyList<ExportableEvent> partition) in layout.Path.Partition(batch.Events))
                {
                    await foreach (EncodedPart part in encoding.EncodeCompressedPartsAsync(
                        prefix, partition, compress, (index, _) => ValueTask.FromResult(written.Contains((prefix, index))), cancellationToken).ConfigureAwait(false))
                    {
                        using (part)
                        {
                            await WritePartAsync(batch, encoding, layout, prefix, part, cancellationToken).ConfigureAwait(false);
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

            // Disposed while this export ran (abandoned at a shutdown deadline): the store was left for it, release it now.
            if (Volatile.Read(ref _disposeRequested) != 0)
            {
                ReleaseResourcesIfIdle();
            }
        }
    }

    /// <summary>Encodes and compresses <paramref name="events"/> as one object with the current options: a dead letter's content.</summary>
    /// <returns>The bytes and a name with the format's and the compression's extensions.</returns>
    public async ValueTask<(PooledBufferWriter Content, string FileName)> EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        PooledBufferWriter encoded = await _encoder.EncodeAsync(events, cancellationToken).ConfigureAwait(false);
        string name = "object." + _encoder.FileExtension + _layout.Compression.FileExtension();
        if (_compress is not { } compress)
        {
            return (encoded, name);
        }

        using (encoded)
        {
            return (compress(encoded), name);
        }
    }

    /// <summary>
    /// Returns the encoder's pooled buffers and disposes the store (when it is <see cref="IDisposable"/>). An export
    /// still running (one the pipeline abandoned at its shutdown deadline) keeps them until it ends; later exports throw
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposeRequested, 1) == 0)
        {
            ReleaseResourcesIfIdle();
        }
    }

    /// <summary>Releases the encoder and store, once, unless an export holds the gate (it calls again when it ends).</summary>
    /// <remarks>
    /// Dispose sets the flag then tries the gate; an export releases the gate then reads the flag. Both sides are full
    /// fences, so at least one of them sees the other: the resources are released once, never under a running export.
    /// The gate itself is not disposed (it has no wait handle to free), so that an export arriving late fails cleanly.
    /// </remarks>
    private void ReleaseResourcesIfIdle()
    {
        if (!_gate.Wait(0))
        {
            return;
        }

        try
        {
            if (Interlocked.Exchange(ref _resourcesReleased, 1) == 0)
            {
                _encoder.Dispose();
                (_store as IDisposable)?.Dispose();
            }
        }
        finally
        {
            _ = _gate.Release();
        }
    }

    private async Task WritePartAsync(ExportBatch batch, BatchEncoding encoding, ObjectLayout layout, string prefix, EncodedPart part, CancellationToken cancellationToken)
    {
        // The name is chosen and recorded before the object is created: an attempt after a crash writes under the same
        // name, where the create-if-absent and the write id recognise the object if it is already there.
        string extension = layout.Compression.FileExtension();
        string suffixRecord = _store.SuffixRecord(prefix, part.Index);
        string baseName = Name(prefix, encoding.FileName, extension, 0);
        int suffix;
        if (batch.GetRecorded(suffixRecord) is { } recorded)
        {
            suffix = ParseSuffix(recorded, suffixRecord, batch.Id);
        }
        else
        {
            // A later part takes a suffix after its previous part's (recorded before that part's object), so that the
            // names of a batch's parts sort by suffix in the parts' order.
            string previousRecord = part.Index > 0 ? _store.SuffixRecord(prefix, part.Index - 1) : "";
            int after = part.Index > 0 && batch.GetRecorded(previousRecord) is { } previous ? ParseSuffix(previous, previousRecord, batch.Id) : -1;
            suffix = Reserve(baseName, after);
            await batch.RecordAsync(suffixRecord, suffix.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            var upload = new ObjectUpload(
                Name(prefix, encoding.FileName, extension, suffix), part.Content.WrittenMemory, encoding.Encoder.ContentType,
                layout.Compression.ContentEncoding(), batch.Id, part.Events.Count);
            if (await _store.TryCreateAsync(upload, cancellationToken).ConfigureAwait(false))
            {
                batch.ReportWritten(_store.Locate(upload.Name), upload.EventCount, upload.Content.Length);
                return;
            }

            // The name exists: our own earlier attempt (its answer lost), or another writer's object.
            if (await _store.ReadWriteIdAsync(upload, cancellationToken).ConfigureAwait(false) == batch.Id)
            {
                _store.OnAlreadyWritten(upload.Name);
                return;
            }

            _store.OnNameTaken(upload.Name);
            suffix = Reserve(baseName, after: suffix);
            await batch.RecordAsync(suffixRecord, suffix.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The <paramref name="suffix"/>-th candidate name: suffix 0 leaves the file name as it is (the file exporter's rule).</summary>
    private static string Name(string prefix, string fileName, string compressionExtension, int suffix) =>
        string.Concat(prefix, ExportFileEncoder.WithSuffix(fileName, suffix), compressionExtension);

    /// <summary>The next suffix for <paramref name="baseName"/> after <paramref name="after"/>, within <see cref="ExportFileEncoder.MaxSuffix"/>.</summary>
    private int Reserve(string baseName, int after)
    {
        int suffix = Reservations.Reserve(_store.Locate(""), baseName, after);
        return suffix <= ExportFileEncoder.MaxSuffix
            ? suffix
            : throw new NoFreeNameException(string.Create(CultureInfo.InvariantCulture,
                $"Could not find a free name for '{_store.Locate(baseName)}' after {ExportFileEncoder.MaxSuffix} attempts: every suffix is taken."));
    }

    private static int ParseSuffix(string recorded, string record, string batchId) =>
        int.TryParse(recorded, NumberStyles.None, CultureInfo.InvariantCulture, out int suffix) && suffix <= ExportFileEncoder.MaxSuffix
            ? suffix
            : throw new ExportEncodingException($"Batch {batchId} recorded the suffix '{recorded}' as '{record}', which is not a suffix.");
}

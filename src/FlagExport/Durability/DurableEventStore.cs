using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using FlagExport.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport.Durability;

/// <summary>
/// The durable buffer of a process: one write-ahead log of events (<see cref="SegmentLog"/>) shared by every exporter
/// pipeline, each with its own cursor, so an exporter that is down does not stop the others from exporting (its
/// cursor does keep the segments it still needs, so the buffer fills while it stays down). A segment is deleted once
/// every exporter's cursor is past it.
/// </summary>
/// <remarks>
/// <para>Layout of <see cref="Directory"/>: <c>buffer-id</c> (a random id, created once, that makes batch identities of
/// this buffer unique), <c>log/</c> (the segments), <c>cursors/</c> (one file per exporter), and, for the collector,
/// <c>idempotency-keys</c> (<see cref="IdempotencyJournal"/>).</para>
/// <para>Appends take a short lock so that the capacity check and the records of one call are atomic: a call that does not
/// fit appends nothing, so a client refused with 503 can send the same events again without duplicating any.</para>
/// </remarks>
internal sealed class DurableEventStore : IAsyncDisposable
{
    /// <summary>Bytes a record costs beyond its payload (length, checksum, tag): counted against the capacity.</summary>
    private const int RecordOverhead = 9;

    /// <summary>The smallest segment <see cref="SegmentBytesFor"/> chooses: below it, file creation and fsyncs would dominate.</summary>
    private const long MinSegmentBytes = 64 * 1024;

    /// <summary>
    /// The most records the log keeps in memory for readers that have caught up (<see cref="SegmentLog.Recent"/>): a
    /// little over two batches of the default size (100,000 events), so that a reader that cuts a full batch while the
    /// next one arrives still finds both in memory.
    /// </summary>
    internal const int DefaultRecentRecords = 256 * 1024;

    /// <summary>The most payload bytes those records take (also at most a segment); their objects take a few times more.</summary>
    private const long MaxRecentBytes = 32L * 1024 * 1024;

    private readonly SegmentLog _log;
    private readonly ILogger _logger;
    private readonly long _segmentBytes; // where the log rolls its segments: SegmentBytesFor(MaxBytes)
    private readonly Lock _appendGate = new();
    private readonly Lock _cursorGate = new();
    private readonly List<ExporterCursor> _cursors = [];
    private readonly List<Action<long>> _listeners = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _notifier;
    private readonly IdempotencyKeys? _keys;
    private readonly IdempotencyJournal? _journal;
    private readonly Lock _journalGate = new(); // one journal writer at a time; never taken on the append path

    // Log positions of idempotency records not yet journaled, ascending: appended under _appendGate, taken off under
    // _journalGate, so an append never waits for the journal's fsync.
    private readonly ConcurrentQueue<long> _keyPositions = new();
    private int _disposed;
    private bool _allCursorsOpened;  // under _cursorGate
    private long _unencodable;

    private DurableEventStore(string directory, long maxBytes, string bufferId, SegmentLog log, ILogger logger, IdempotencyKeys? keys)
    {
        Directory = directory;
        MaxBytes = maxBytes;
        _segmentBytes = SegmentBytesFor(maxBytes);
        BufferId = bufferId;
        _log = log;
        _logger = logger;
        if (keys is not null)
        {
            _keys = keys;
            _journal = new IdempotencyJournal(Path.Combine(directory, IdempotencyJournal.FileName));
            RecoverKeys();
        }

        using (ExecutionContext.SuppressFlow())
        {
            _notifier = Task.Run(NotifyAsync);
        }
    }

    /// <summary>The absolute path of the buffer's folder.</summary>
    public string Directory { get; }

    /// <summary>The most bytes the buffer holds; appends beyond it are refused.</summary>
    public long MaxBytes { get; }

    /// <summary>
    /// The most bytes one <see cref="TryAppend(IReadOnlyList{ExportableEvent}, out long)"/> call can take: <see cref="MaxBytes"/> less the segment being written
    /// (never released, up to <see cref="SegmentBytesFor"/>) and two segment headers. A larger call could not fit even
    /// once every exporter is past everything, so it is refused as too large rather than as full.
    /// </summary>
    public long MaxAppendBytes => MaxBytes - _segmentBytes - (2 * SegmentFormat.HeaderSize);

    /// <summary>This buffer's random id: the prefix of every batch identity cut from it.</summary>
    public string BufferId { get; }

    /// <summary>The folder of the exporters' cursor files.</summary>
    public string CursorDirectory => Path.Combine(Directory, "cursors");

    /// <summary>The log, for the pipelines' readers.</summary>
    public SegmentLog Log => _log;

    /// <summary>Every record below this position is on disk.</summary>
    public long DurablePosition => _log.DurablePosition;

    /// <summary>How many events were refused because the record codec cannot encode them.</summary>
    public long UnencodableCount => Interlocked.Read(ref _unencodable);

    /// <summary>Why the last write to disk failed (appends are refused until one succeeds), or null when writes succeed.</summary>
    public Exception? AppendError => _log.AppendError;

    /// <summary>The bytes held, on disk and waiting to be written.</summary>
    public long SizeBytes => _log.SizeBytes;

    /// <summary>Opens (or creates) the buffer in <paramref name="directory"/>, recovering what a crash left.</summary>
    /// <param name="directory">The buffer's folder.</param>
    /// <param name="maxBytes">The most bytes it holds.</param>
    /// <param name="logger">Where recovery and failures are reported.</param>
    /// <param name="recentRecords">The most records kept in memory for readers that have caught up (tests change it).</param>
    /// <param name="recentBytes">The most payload bytes of those records; null: a segment's size, at most 32 MiB (tests change it).</param>
    /// <param name="keys">
    /// The collector's idempotency keys, recovered into it from the log and the key journal, whose keys are journaled
    /// before their segments are deleted; null when nothing appends keys.
    /// </param>
    /// <exception cref="IOException">The folder cannot be used.</exception>
    /// <exception cref="DurableBufferLockedException">Another log, in this process or another, holds the folder.</exception>
    public static DurableEventStore Open(
        string directory, long maxBytes, ILogger? logger = null, int recentRecords = DefaultRecentRecords, long? recentBytes = null, IdempotencyKeys? keys = null)
    {
        logger ??= NullLogger.Instance;
        string root = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(root);
        // The store enforces the capacity atomically per call; the log's own bound only backs it up.
        long segmentBytes = SegmentBytesFor(maxBytes);
        SegmentLog log;
        try
        {
            log = SegmentLog.Open(
                Path.Combine(root, "log"),
                new SegmentLogOptions
                {
                    MaxBytes = long.MaxValue, SegmentBytes = segmentBytes,
                    RecentRecordCount = recentRecords, RecentRecordBytes = recentBytes ?? Math.Min(segmentBytes, MaxRecentBytes),
                },
                logger);
        }
        catch (DurableBufferLockedException exception)
        {
            // Named by the folder the user configured, not its log subfolder.
            throw new DurableBufferLockedException(root, exception.InnerException ?? exception);
        }

        // Read or created only under the log's lock: two processes starting on a new folder at once would otherwise
        // both write an id, and batches of the first would be named by an id the folder no longer holds.
        string bufferId;
        try
        {
            bufferId = ReadOrCreateBufferId(Path.Combine(root, "buffer-id"));
        }
        catch
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        if (log.SizeBytes > maxBytes)
        {
            logger.BufferOverCapacity(root, log.SizeBytes, maxBytes);
        }

        try
        {
            return new DurableEventStore(root, maxBytes, bufferId, log, logger, keys);
        }
        catch
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private static string ReadOrCreateBufferId(string idFile)
    {
        if (File.Exists(idFile))
        {
            return File.ReadAllText(idFile).Trim();
        }

        string bufferId = Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..16];
        DurableFile.Replace(idFile, System.Text.Encoding.ASCII.GetBytes(bufferId));
        return bufferId;
    }

    /// <summary>
    /// The segment size for a buffer of <paramref name="maxBytes"/>: at most an eighth of it. Only sealed segments are
    /// deleted, so once everything is exported the segment being written is all that stays counted; a segment as large
    /// as the buffer would keep a full buffer full for good.
    /// </summary>
    internal static long SegmentBytesFor(long maxBytes) => Math.Clamp(maxBytes / 8, MinSegmentBytes, new SegmentLogOptions().SegmentBytes);

    /// <summary>
    /// Appends every event of <paramref name="events"/> or none. Does no I/O: the records are written and fsynced by the
    /// log's background flusher in one group commit; <see cref="WaitForDurableAsync"/> with <paramref name="end"/> waits
    /// for that, and throws <see cref="RecordsDiscardedException"/> if that commit failed (then none of them is kept).
    /// </summary>
    /// <remarks>
    /// Feature events that share one metadata object (a collector request's <c>meta</c>) store it once: a metadata record
    /// before the first of them, and each of their records refers to it. Such a record always lies in the same segment as
    /// a copy of the metadata record, since segments are released and quarantined one by one
    /// (<see cref="SegmentLog.TryAppendBatch(ReadOnlySpan{byte}, ReadOnlySpan{int}, ReadOnlySpan{byte}, ReadOnlySpan{int}, out long)"/>).
    /// </remarks>
    /// <returns><see langword="false"/> when the buffer lacks room for all of them now (nothing is appended).</returns>
    /// <exception cref="DurableRequestTooLargeException">The events take more than <see cref="MaxAppendBytes"/>.</exception>
    public bool TryAppend(IReadOnlyList<ExportableEvent> events, out long end) => TryAppend(events, key: null, out end);

    /// <summary>
    /// As <see cref="TryAppend(IReadOnlyList{ExportableEvent}, out long)"/>, with <paramref name="key"/> (when not null)
    /// appended after the events in the same group commit: after a crash the log holds both or neither.
    /// </summary>
    public bool TryAppend(IReadOnlyList<ExportableEvent> events, IdempotencyRecord? key, out long end)
    {
        int count = events.Count;
        int maxRecords = (count * 2) + 1; // at most one metadata record per event, and the key
        int[] lengths = ArrayPool<int>.Shared.Rent(maxRecords);
        int[] metadataRecords = ArrayPool<int>.Shared.Rent(maxRecords); // for a record that shares metadata, its metadata record; else -1
        byte[] tags = ArrayPool<byte>.Shared.Rent(maxRecords);
        object?[] items = ArrayPool<object?>.Shared.Rent(maxRecords); // what each record was encoded from, for readers that caught up
        using var scratch = new PooledBufferWriter(Math.Max(count * 256, 256));
        try
        {
            int records = EncodeRecords(events, scratch, lengths, metadataRecords, tags, items, out long metadataBytes);
            if (key is not null)
            {
                // Last in the call: readers of events pass over it (not an ExportableEvent in memory, its own tag on disk).
                (tags[records], lengths[records], metadataRecords[records], items[records]) =
                    (IdempotencyRecordCodec.Tag, IdempotencyRecordCodec.Write(key, scratch), -1, key);
                records++;
            }

            // The log copies a metadata record into each later segment its events reach. A shared record is at most a
            // quarter of a segment (EncodeRecords), so every segment the call reaches past the first holds at least
            // three quarters of a segment of other bytes: that bounds the copies, which are counted like the rest.
            long bytes = scratch.WrittenCount + ((long)records * RecordOverhead);
            bytes += metadataBytes * (1 + (bytes / (_segmentBytes - (_segmentBytes / 4))));
            if (bytes > MaxAppendBytes)
            {
                // Even a buffer holding only the segment being written could not take them: a 503 would make the
                // client send them again for ever.
                throw new DurableRequestTooLargeException(Directory, MaxBytes, MaxAppendBytes, bytes);
            }

            lock (_appendGate)
            {
                if (_log.SizeBytes + bytes > MaxBytes)
                {
                    end = -1;
                    return false;
                }

                // The log's own bound is unlimited (see Open): only disposal refuses here.
                bool appended = _log.TryAppendBatch(
                    tags.AsSpan(0, records), lengths.AsSpan(0, records), scratch.WrittenSpan, metadataRecords.AsSpan(0, records), items.AsSpan(0, records), out end);
                ObjectDisposedException.ThrowIf(!appended, this);
                if (key is not null && _journal is not null)
                {
                    // Positions grow under _appendGate, so the queue stays in order.
                    _keyPositions.Enqueue(end - 1);
                }

                return true;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(lengths);
            ArrayPool<int>.Shared.Return(metadataRecords);
            ArrayPool<byte>.Shared.Return(tags);
            items.AsSpan(0, maxRecords).Clear(); // the pool must not keep the events alive
            ArrayPool<object?>.Shared.Return(items);
        }
    }

    /// <summary>
    /// Encodes the records of <paramref name="events"/> into <paramref name="scratch"/>: an event's metadata goes into a
    /// metadata record of its own when the next event shares the object and it takes at most a quarter of a segment, and
    /// the events that share it refer to it; <paramref name="metadataBytes"/> is what those records take.
    /// </summary>
    /// <returns>The number of records; an event the codec refuses takes none and is counted as unencodable.</returns>
    private int EncodeRecords(
        IReadOnlyList<ExportableEvent> events, PooledBufferWriter scratch, int[] lengths, int[] metadataRecords, byte[] tags, object?[] items, out long metadataBytes)
    {
        int records = 0;
        FlagObject? shared = null;
        FlagObject? inline = null; // too large to share: each event keeps its own copy, counted as such
        int sharedRecord = -1;
        long maxShared = _segmentBytes / 4;
        metadataBytes = 0;
        for (int i = 0; i < events.Count; i++)
        {
            ExportableEvent e = events[i];
            FlagObject? metadata = (e as FeatureEvent)?.MetadataObject;
            if (metadata is { Count: > 0 } && !ReferenceEquals(metadata, shared) && !ReferenceEquals(metadata, inline)
                && i + 1 < events.Count && events[i + 1] is FeatureEvent next && ReferenceEquals(next.MetadataObject, metadata))
            {
                int before = scratch.WrittenCount;
                try
                {
                    EventRecordCodec.WriteMetadata(metadata, scratch);
                    int length = scratch.WrittenCount - before;
                    if (length > maxShared)
                    {
                        // Shared, it would be copied into nearly every segment its events reach (one event each).
                        scratch.Truncate(before);
                        inline = metadata;
                    }
                    else
                    {
                        (shared, sharedRecord) = (metadata, records);
                        (tags[records], lengths[records], metadataRecords[records], items[records]) = (EventRecordCodec.MetadataTag, length, -1, metadata);
                        metadataBytes += length + RecordOverhead;
                        records++;
                    }
                }
                catch (ArgumentException)
                {
                    // Nested too deep: each event below is refused and counted on its own.
                }
            }

            bool sharesMetadata = metadata is not null && ReferenceEquals(metadata, shared);
            int start = scratch.WrittenCount;
            tags[records] = EventRecordCodec.TagOf(e);
            metadataRecords[records] = sharesMetadata ? sharedRecord : -1;
            try
            {
                EventRecordCodec.Write(e, scratch, sharesMetadata);
                lengths[records] = scratch.WrittenCount - start;
                items[records] = e;
            }
            catch (ArgumentException exception)
            {
                // A value nested deeper than the codec allows (the collector's parser refuses those first): dropped
                // alone and counted, rather than failing every event appended with it. Write leaves nothing behind.
                _ = Interlocked.Increment(ref _unencodable);
                _logger.EventNotBuffered(exception);
                continue;
            }

            records++;
        }

        return records;
    }

    /// <summary>Completes when every record below <paramref name="end"/> is on disk.</summary>
    public ValueTask WaitForDurableAsync(long end, CancellationToken cancellationToken) => _log.WaitForDurableAsync(end, cancellationToken);

    /// <summary>
    /// Opens the cursor of <paramref name="exporterName"/> and counts it for <see cref="Release"/>. A new exporter starts
    /// at the end of the log: it takes the events acknowledged from now on, and none that another cursor of the same
    /// name already owed (set aside with <see cref="DurableBufferBacklog.DropAsync"/>, or written) comes again.
    /// </summary>
    /// <exception cref="ExporterTypeChangedException">The exporter now takes the other event type while it still owes events of the old one.</exception>
    public ExporterCursor OpenCursor(string exporterName, EventType? eventType = null)
    {
        ExporterCursor cursor = ExporterCursor.Open(CursorDirectory, exporterName, _log.EndPosition, eventType);
        if (cursor.Replaced is { } previous)
        {
            long backlog = OrphanedCursors.Backlog(_log, previous);
            if (backlog > 0 || previous.InFlight is not null)
            {
                // The old type's events were acknowledged and this exporter alone owed them: starting over would drop them.
                throw new ExporterTypeChangedException(Directory, exporterName, previous.EventType!.Value, backlog);
            }

            // Saved before any event of the new type is acknowledged: unsaved, the next start would again see the old
            // type and start over at the end it finds then, skipping the events acknowledged since.
            cursor.Save();
            _logger.CursorReset(exporterName, cursor.FilePath);
        }

        lock (_cursorGate)
        {
            _cursors.Add(cursor);
        }

        return cursor;
    }

    /// <summary>Calls <paramref name="listener"/> with the durable position each time it advances (from a background task).</summary>
    public void OnDurable(Action<long> listener)
    {
        lock (_cursorGate)
        {
            _listeners.Add(listener);
        }
    }

    /// <summary>
    /// Every exporter's cursor is open: from now on <see cref="Release"/> may delete segments. Before, the first pipeline
    /// to commit could delete what an exporter whose cursor is not open yet still needs.
    /// </summary>
    /// <remarks>
    /// A cursor left by an exporter no longer registered is deleted when it owes nothing (logged); one that still owes
    /// events (a backlog, or a batch in flight) stops the start: nothing else would ever export them, and they were
    /// acknowledged.
    /// </remarks>
    /// <exception cref="OrphanedExporterException">An exporter no longer registered still owes events.</exception>
    public void AllCursorsOpened()
    {
        lock (_cursorGate)
        {
            var owing = new List<(string Exporter, long Events)>();
            foreach (ExporterCursor orphan in OrphanedCursors.Find(CursorDirectory, _cursors).ToList())
            {
                string name = OrphanedCursors.NameOf(orphan);
                long backlog = OrphanedCursors.Backlog(_log, orphan);
                if (backlog == 0 && orphan.InFlight is null)
                {
                    orphan.Delete();
                    _logger.OrphanedCursorRemoved(name, orphan.FilePath);
                    continue;
                }

                // Counted like an open cursor, so that no segment it needs is released even if the caller goes on.
                _cursors.Add(orphan);
                owing.Add((name, backlog));
            }

            if (owing.Count > 0)
            {
                throw new OrphanedExporterException(Directory, owing);
            }

            _allCursorsOpened = true;
        }
    }

    /// <summary>Deletes the segments every exporter is past (nothing before <see cref="AllCursorsOpened"/>).</summary>
    public void Release()
    {
        long oldestNeeded;
        lock (_cursorGate)
        {
            if (_cursors.Count == 0 || !_allCursorsOpened)
            {
                return;
            }

            oldestNeeded = _cursors.Min(c => c.Committed);
        }

        if (_journal is not null)
        {
            // Only the keys of segments about to be deleted go to the journal (an fsync per release that deletes one,
            // none per batch); the log still holds the others.
            oldestNeeded = _log.ReleasableBefore(oldestNeeded);
            if (!JournalKeysBefore(oldestNeeded))
            {
                return; // the segments stay, and with them their keys: tried again at the next release
            }
        }

        _log.ReleaseBefore(oldestNeeded);
    }

    /// <summary>
    /// Makes the keys of the log's records below <paramref name="position"/> durable in the journal, so that deleting
    /// their segments forgets none; read from the log (only durable records: a key whose group commit failed is not
    /// there). Expired keys are left out.
    /// </summary>
    /// <returns>False when the journal could not be written (logged): nothing may be released then.</returns>
    private bool JournalKeysBefore(long position)
    {
        lock (_journalGate)
        {
            if (!_keyPositions.TryPeek(out long first) || first >= position)
            {
                return true;
            }

            var journaled = new List<IdempotencyRecord>();
            DateTimeOffset now = _keys!.TimeProvider.GetUtcNow();
            try
            {
                long end = Math.Min(position, _log.DurablePosition);
                using (SegmentLogReader reader = _log.OpenReader(first))
                {
                    while (reader.NextPosition < end && reader.TryRead(out long at, out byte tag, out ReadOnlySpan<byte> payload) && at < end)
                    {
                        if (tag == IdempotencyRecordCodec.Tag && IdempotencyRecordCodec.TryRead(payload) is { } record && record.ArrivalTime + _keys.Retention > now)
                        {
                            journaled.Add(record);
                        }
                    }
                }

                _journal!.Append(journaled);
                if (_journal.ShouldCompact(_keys.Count))
                {
                    CompactJournal(journaled);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                _logger.IdempotencyJournalFailed(_journal!.Path, exception.Message);
                return false;
            }

            while (_keyPositions.TryPeek(out long next) && next < position)
            {
                _ = _keyPositions.TryDequeue(out _);
            }

            return true;
        }
    }

    /// <summary>Rewrites the journal with the keys held, plus <paramref name="alsoKeep"/> (keys whose request may not have settled in the index yet).</summary>
    private void CompactJournal(List<IdempotencyRecord> alsoKeep)
    {
        List<IdempotencyRecord> held = _keys!.Snapshot();
        var seen = new HashSet<(string, string)>(held.Select(r => (r.Scope, r.Key)));
        held.AddRange(alsoKeep.Where(r => seen.Add((r.Scope, r.Key))));
        _journal!.Rewrite(held);
    }

    /// <summary>
    /// Fills the index from the journal (keys of deleted segments), then from the log's idempotency records (the source
    /// of truth for the segments that remain), and compacts the journal when it holds mostly forgotten keys.
    /// </summary>
    private void RecoverKeys()
    {
        (List<IdempotencyRecord> journaled, bool damaged) = _journal!.Read();
        if (damaged)
        {
            _logger.IdempotencyJournalDamaged(_journal.Path, journaled.Count);
        }

        foreach (IdempotencyRecord record in journaled)
        {
            _keys!.Restore(record);
        }

        long end = _log.DurablePosition;
        using (SegmentLogReader reader = _log.OpenReader(_log.StartPosition))
        {
            while (reader.NextPosition < end && reader.TryRead(out long position, out byte tag, out ReadOnlySpan<byte> payload) && position < end)
            {
                if (tag != IdempotencyRecordCodec.Tag)
                {
                    continue;
                }

                if (IdempotencyRecordCodec.TryRead(payload) is { } record)
                {
                    _keys!.Restore(record);
                    _keyPositions.Enqueue(position);
                }
            }
        }

        if (_journal.ShouldCompact(_keys!.Count))
        {
            CompactJournal([]);
        }
    }

    /// <summary>Makes everything appended so far durable.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _log.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _notifier.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _log.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task NotifyAsync()
    {
        long seen = _log.DurablePosition;
        while (!_stopping.IsCancellationRequested)
        {
            await _log.WaitForDataAsync(seen, _stopping.Token).ConfigureAwait(false);
            seen = _log.DurablePosition;
            Action<long>[] listeners;
            lock (_cursorGate)
            {
                listeners = [.. _listeners];
            }

            foreach (Action<long> listener in listeners)
            {
                listener(seen);
            }
        }
    }
}

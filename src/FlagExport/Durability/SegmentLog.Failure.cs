using Microsoft.Win32.SafeHandles;

namespace FlagExport.Durability;

/// <summary>
/// What a failed group commit leaves: nothing. Its records are discarded (their waiters refused, their positions never
/// used again), the bytes it wrote are cut off the disk at once, and the log keeps accepting appends: the next group
/// commit, or a probe every <see cref="SegmentLogOptions.RetryDelay"/>, tries the disk again.
/// </summary>
/// <remarks>
/// After a failure the next records start a new segment at the position after the discarded ones, so a segment's
/// records stay contiguous and the discarded positions are a gap like a quarantined segment's. Retrying after a failed
/// fsync is sound because the retry never relies on the pages that failed: they are truncated away, and the bytes
/// before them were fsynced by an earlier group commit.
/// </remarks>
internal sealed partial class SegmentLog
{
    // Guarded by _lock.
    private readonly List<(long Start, long End)> _discarded = []; // ascending, merged when adjacent
    private int _discardedCount; // _discarded.Count, read without the lock on the append path

    // Flusher only.
    private readonly List<string> _orphans = []; // files of segments a failed group created, still to delete
    private Segment? _truncate;                   // segment a failed group wrote to, still to cut back to its durable length

    private volatile Exception? _appendError;

    private enum WaitFor
    {
        /// <summary>The records of one append call are durable; their discarding throws.</summary>
        Durable,

        /// <summary>A record at or after the position is durable (readers: gaps are skipped).</summary>
        Data,

        /// <summary>Every record below the position is durable or discarded.</summary>
        Resolved,
    }

    /// <summary>True when the append call whose records end at <paramref name="endPosition"/> had its group commit fail.</summary>
    private bool IsDiscarded(long endPosition)
    {
        if (Volatile.Read(ref _discardedCount) == 0)
        {
            return false;
        }

        lock (_lock)
        {
            // The records of one call share a group: the call is discarded whole, so its end lies within one range.
            foreach ((long start, long end) in _discarded)
            {
                if (start < endPosition && endPosition <= end)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// Undoes a group commit that threw: forgets the segments it created (never listed, so no reader entered them), seals <paramref name="groupFirst"/> where it was
    /// durable, records <c>[start, end)</c> as discarded, makes the next records start a new segment at
    /// <paramref name="end"/>, and cuts the disk back (or leaves that to the next round if it fails too).
    /// </summary>
    /// <remarks>
    /// <paramref name="groupFirst"/> is the segment that was receiving records when the group began;
    /// <paramref name="wroteGroupFirst"/> says the group could write to it (an earlier failure had not sealed it).
    /// </remarks>
    private void Discard(Segment groupFirst, bool wroteGroupFirst, long start, long end, Exception exception)
    {
        // Before the waiters wake: a refused appender finds the reason, logged.
        _appendError = exception;
        if (end > start)
        {
            _logger.FlushFailed(_directory, end - start, exception.Message); // a probe's failure (no record) only at Debug
        }

        _logger.FlushFailedDetail(exception, _directory);
        _groupSealed.Clear();
        _flushingRolls.Clear();
        foreach (Segment created in _groupCreated)
        {
            _orphans.Add(created.Path);
        }

        _groupCreated.Clear();
        if (start == end && wroteGroupFirst && _orphans.Count == 0)
        {
            // Nothing was written (an empty round whose check failed): the active segment goes on as it is.
            return;
        }

        _activeFile.Dispose();
        lock (_lock)
        {
            // groupFirst is still the last listed segment (the group's own were never listed), so never released.
            groupFirst.Seal();
            if (start < end)
            {
                if (_discarded.Count > 0 && _discarded[^1].End == start)
                {
                    _discarded[^1] = (_discarded[^1].Start, end);
                }
                else
                {
                    _discarded.Add((start, end));
                    Volatile.Write(ref _discardedCount, _discarded.Count);
                }

                // Before any later group is published: no reader ever sees these positions durable while still held.
                using (_recent.BeginAdd())
                {
                    _recent.ForgetLocked(start, end);
                }
            }

            if (_pendingRolls.Count == 0 || _pendingRolls[0].Offset != 0)
            {
                if (_pendingRolls.Count == 0)
                {
                    // The pending records go to the new segment instead of the one that failed.
                    _plannedSegmentBytes = SegmentFormat.HeaderSize + _pendingLength;
                    _plannedSegmentRecords = _endPosition - end;
                }

                _pendingRolls.Insert(0, new Roll(0, end));
            }

            long size = _pendingLength + ((long)_pendingRolls.Count * SegmentFormat.HeaderSize);
            foreach (Segment segment in _segments)
            {
                size += segment.DurableLength;
            }

            _sizeBytes = size;
        }

        _activeSegment = groupFirst;
        _activeLength = groupFirst.DurableLength;
        _activeDirty = false;
        if (wroteGroupFirst)
        {
            _truncate = groupFirst;
        }

        try
        {
            Repair();
        }
#pragma warning disable CA1031 // the next round tries again and fails its group if this still fails
        catch (Exception repairError)
#pragma warning restore CA1031
        {
            _logger.RepairFailed(repairError, _directory);
        }
    }

    /// <summary>
    /// Cuts what a failed group wrote off the disk: its first segment back to the durable length (fsynced), the
    /// segments it created deleted (directory fsynced). Throws while that is impossible, which fails the round's group.
    /// </summary>
    private void Repair()
    {
        if (_truncate is { } segment)
        {
            using (SafeFileHandle file = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
            {
                RandomAccess.SetLength(file, segment.DurableLength);
                _options.FlushToDisk(file);
            }

            _truncate = null;
        }

        if (_orphans.Count > 0)
        {
            while (_orphans.Count > 0)
            {
                File.Delete(_orphans[^1]);
                _orphans.RemoveAt(_orphans.Count - 1);
            }

            DirectorySync.Flush(_directory);
        }
    }

    /// <summary>
    /// Throws when the active segment's name no longer leads to a file: the folder was deleted or replaced under the log,
    /// and records written to the unlinked file would be gone at the next start. Checked before each group is published.
    /// </summary>
    private void CheckActiveFileLinked()
    {
        if (!File.Exists(_activeSegment.Path))
        {
            throw new IOException(
                $"The segment file '{_activeSegment.Path}' no longer exists: the buffer folder was deleted or replaced while the process ran; records written to it would be lost at the next start.");
        }
    }
}

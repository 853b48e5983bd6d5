using Microsoft.Win32.SafeHandles;

namespace FlagExport.Durability;

/// <summary>Limits and commit timing of a <see cref="SegmentLog"/>.</summary>
internal sealed class SegmentLogOptions
{
    /// <summary>Most bytes the log keeps on disk plus in memory; <see cref="SegmentLog.TryAppend(byte, ReadOnlySpan{byte}, out long)"/> refuses records beyond it.</summary>
    public long MaxBytes { get; init; } = 10L * 1024 * 1024 * 1024;

    /// <summary>A segment is closed and a new one started before a record would take it past this size.</summary>
    public long SegmentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// How long the flusher waits after the first pending record before writing, to gather more records into one fsync.
    /// Zero writes as soon as anything is pending; records appended during a write still share the next fsync.
    /// </summary>
    public TimeSpan CommitDelay { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// How often, while writes fail (a full disk), the log tries the disk again without waiting for an append: it then
    /// reports itself healthy as soon as the disk takes writes again.
    /// </summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The most records <see cref="SegmentLog.Recent"/> keeps in memory for readers that have caught up; 0 keeps none.
    /// The durable store sets it (docs/durability.md, "Reading from memory").
    /// </summary>
    public int RecentRecordCount { get; init; }

    /// <summary>The most payload bytes of the records <see cref="SegmentLog.Recent"/> keeps.</summary>
    public long RecentRecordBytes { get; init; }

    /// <summary>fsyncs an appended segment file; tests replace it to simulate a failing disk.</summary>
    internal Action<SafeFileHandle> FlushToDisk { get; init; } = RandomAccess.FlushToDisk;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBytes, nameof(MaxBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(SegmentBytes, SegmentFormat.HeaderSize + SegmentFormat.RecordHeaderSize, nameof(SegmentBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(CommitDelay, TimeSpan.Zero, nameof(CommitDelay));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RetryDelay, TimeSpan.Zero, nameof(RetryDelay));
    }
}

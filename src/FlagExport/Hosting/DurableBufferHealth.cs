using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlagExport;

/// <summary>
/// The durable buffer as the FlagExport health check saw it: the value of <see cref="HealthReportEntry.Data"/> under
/// <see cref="Key"/>, present only when the buffer is on.
/// </summary>
public sealed class DurableBufferHealth
{
    /// <summary>The key of this entry in <see cref="HealthReportEntry.Data"/> (the other keys are exporter names).</summary>
    public const string Key = "(durable buffer)";

    internal DurableBufferHealth(string directory, long sizeBytes, long maxBytes, string? appendError, long queuedCount, long droppedCount, string? lastAppendFailure)
    {
        Directory = directory;
        SizeBytes = sizeBytes;
        MaxBytes = maxBytes;
        AppendError = appendError;
        QueuedCount = queuedCount;
        DroppedCount = droppedCount;
        LastAppendFailure = lastAppendFailure;
    }

    /// <summary>The buffer's folder.</summary>
    public string Directory { get; }

    /// <summary>The bytes the buffer holds on disk.</summary>
    public long SizeBytes { get; }

    /// <summary>The most bytes it holds (<see cref="DurableBufferOptions.MaxBufferBytes"/>).</summary>
    public long MaxBytes { get; }

    /// <summary>
    /// Why the last write to the buffer's disk failed (a full disk, a deleted folder), or null when writes succeed. While
    /// it is set, appends are refused; it clears at the first write that succeeds again.
    /// </summary>
    public string? AppendError { get; }

    /// <summary>Events added with <see cref="IFlagEventSink.Add"/> that wait in memory to be appended to the buffer.</summary>
    public long QueuedCount { get; }

    /// <summary>
    /// Events added with <see cref="IFlagEventSink.Add"/> since the start that never reached the buffer: their queue was
    /// full (it holds the largest <see cref="DataExporterOptions.MaxBufferedEvents"/> of their type's exporters), one was
    /// larger than the buffer can ever take, the application stopped before they were appended, or it was stopping when
    /// they were added.
    /// </summary>
    public long DroppedCount { get; }

    /// <summary>
    /// Why the last append to the buffer was refused (the buffer was full, the events could never fit, the disk failed),
    /// or null when none was, or an append succeeded since. Nothing of a refused append is kept: a request is refused
    /// whole, and added events wait and are tried again.
    /// </summary>
    public string? LastAppendFailure { get; }
}

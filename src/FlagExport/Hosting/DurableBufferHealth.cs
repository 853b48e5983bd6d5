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

    internal DurableBufferHealth(string directory, long sizeBytes, long maxBytes, string? appendError)
    {
        Directory = directory;
        SizeBytes = sizeBytes;
        MaxBytes = maxBytes;
        AppendError = appendError;
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
}

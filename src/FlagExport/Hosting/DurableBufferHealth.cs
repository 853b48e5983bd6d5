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

    internal DurableBufferHealth(string directory, long sizeBytes, long maxBytes)
    {
        Directory = directory;
        SizeBytes = sizeBytes;
        MaxBytes = maxBytes;
    }

    /// <summary>The buffer's folder.</summary>
    public string Directory { get; }

    /// <summary>The bytes the buffer holds on disk.</summary>
    public long SizeBytes { get; }

    /// <summary>The most bytes it holds (<see cref="DurableBufferOptions.MaxBufferBytes"/>).</summary>
    public long MaxBytes { get; }
}

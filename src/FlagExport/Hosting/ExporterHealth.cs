using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlagExport;

/// <summary>
/// One exporter pipeline as the FlagExport health check saw it: a value of <see cref="HealthReportEntry.Data"/>, keyed
/// by the exporter's name.
/// </summary>
public sealed class ExporterHealth
{
    internal ExporterHealth()
    {
    }

    /// <summary>The exporter's name, as registered.</summary>
    public string Name { get; internal init; } = "";

    /// <summary><see cref="HealthStatus.Healthy"/>, or the check's failure status when <see cref="Reasons"/> is not empty.</summary>
    public HealthStatus Status { get; internal init; }

    /// <summary>Why the exporter is reported, one sentence each; empty when it is healthy.</summary>
    public IReadOnlyList<string> Reasons { get; internal init; } = [];

    /// <summary>How many exports in a row failed (0 after a success).</summary>
    public int ConsecutiveFailures { get; internal init; }

    /// <summary>When the last export succeeded, or <see langword="null"/> before the first.</summary>
    public DateTimeOffset? LastSuccess { get; internal init; }

    /// <summary>When the first failure after the last success happened, or <see langword="null"/> while exports succeed.</summary>
    public DateTimeOffset? FailingSince { get; internal init; }

    /// <summary>How many events are held: accepted and not yet written.</summary>
    public long BufferedCount { get; internal init; }

    /// <summary>The bound on <see cref="BufferedCount"/> in memory, or <see langword="null"/> when the exporter reads the durable buffer.</summary>
    public long? MaxBufferedEvents { get; internal init; }

    /// <summary>Whether the exporter reads the durable buffer.</summary>
    public bool IsDurable { get; internal init; }

    /// <summary>How many batches were set aside as dead letters since the start.</summary>
    public long DeadLetterBatchCount { get; internal init; }

    /// <summary>How many events those batches hold.</summary>
    public long DeadLetteredCount { get; internal init; }

    /// <summary>The absolute path of the exporter's dead-letter folder.</summary>
    public string DeadLetterDirectory { get; internal init; } = "";
}

namespace FlagExport;

/// <summary>
/// When the FlagExport health check (<see cref="FlagExportHealthChecksBuilderExtensions.AddFlagExport"/>) reports an
/// exporter as failing. Named options: the name is the health check's registration name.
/// </summary>
public sealed class FlagExportHealthCheckOptions
{
    internal static readonly TimeSpan DefaultFailingAfter = TimeSpan.FromMinutes(1);
    internal const double DefaultBufferFullRatio = 0.9;

    /// <summary>
    /// How long an exporter may fail without a successful export in between before the check reports it: measured from
    /// the first failure after its last success. A single failed export that the retry heals stays healthy.
    /// </summary>
    /// <value>The default value is 1 minute. Must not be negative; zero reports an exporter at its first failure.</value>
    public TimeSpan FailingAfter { get; set; } = DefaultFailingAfter;

    /// <summary>
    /// How full a buffer may get before the check reports it: the events held by an exporter, as a share of
    /// <see cref="DataExporterOptions.MaxBufferedEvents"/> (in memory), or the bytes of the durable buffer, as a share of
    /// <see cref="DurableBufferOptions.MaxBufferBytes"/>. Reported before it is full, when events start being refused.
    /// </summary>
    /// <value>The default value is 0.9 (90%). Must be greater than 0 and at most 1.</value>
    public double BufferFullRatio { get; set; } = DefaultBufferFullRatio;
}

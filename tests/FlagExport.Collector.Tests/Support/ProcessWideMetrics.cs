namespace FlagExport.Collector.Tests.Support;

/// <summary>Test classes that read process-wide metrics and so must run alone.</summary>
/// <remarks>
/// OpenTelemetry's MeterProvider listens to every meter of a given name in the process, not only to the meters of its
/// own host's IMeterFactory: a collector started by another test at the same time (same exporter names, same tags)
/// would add its counts to this one's. One collector per process is how the service runs, so only the tests share.
/// </remarks>
[CollectionDefinition(nameof(ProcessWideMetrics), DisableParallelization = true)]
public sealed class ProcessWideMetrics;

using System.Diagnostics;
using System.Reflection;

namespace FlagExport;

/// <summary>
/// The <c>FlagExport</c> <see cref="ActivitySource"/>: one activity per export attempt and one per replay of the durable
/// buffer after a restart. The names below are the contract that dashboards and docs/library.md rely on.
/// </summary>
/// <remarks>
/// <para>Nothing is created while no listener samples the source: <see cref="ActivitySource.StartActivity(string, ActivityKind, ActivityContext, IEnumerable{KeyValuePair{string, object}}?, IEnumerable{ActivityLink}?, DateTimeOffset)"/>
/// returns null, and every tag is set behind a null check, so a pipeline without tracing pays one call per batch.</para>
/// <para>Tags follow OpenTelemetry's semantic conventions where one exists (<c>error.type</c>) and are named
/// <c>flagexport.*</c> otherwise, as the metrics are.</para>
/// </remarks>
internal static class ExportActivities
{
    /// <summary>The name of the activity source (the same as the meter's).</summary>
    internal const string SourceName = PipelineMetrics.MeterName;

    /// <summary>One call of the exporter for one batch: its operation name.</summary>
    internal const string ExportName = "flagexport.export";

    /// <summary>The durable buffer's backlog written after a restart: its operation name.</summary>
    internal const string ReplayName = "flagexport.replay";

    /// <summary>The exporter's name, as in the metrics.</summary>
    internal const string ExporterTag = PipelineMetrics.ExporterTag;

    /// <summary>The batch's identity, the same for every attempt and across restarts (and in a dead letter's name).</summary>
    internal const string BatchIdTag = "flagexport.batch.id";

    /// <summary>Which attempt for this batch: 1 for the first, counted across restarts with the durable buffer.</summary>
    internal const string AttemptTag = "flagexport.batch.attempt";

    /// <summary>How many events the batch holds.</summary>
    internal const string EventsTag = "flagexport.batch.events";

    /// <summary>How many bytes the attempt wrote (the sum over the files or objects it reported).</summary>
    internal const string BytesTag = "flagexport.batch.bytes";

    /// <summary>Every file path or <c>s3://bucket/key</c> the attempt wrote, in order (a string array).</summary>
    internal const string DestinationsTag = "flagexport.destinations";

    /// <summary>How the attempt ended: <see cref="Written"/>, <see cref="Failed"/> or <see cref="DeadLettered"/>.</summary>
    internal const string OutcomeTag = "flagexport.outcome";

    /// <summary>Where a batch set aside went: the dead letter's path.</summary>
    internal const string DeadLetterTag = "flagexport.dead_letter";

    /// <summary>OpenTelemetry's class of error: <see cref="TimeoutErrorType"/> or the exception's full type name.</summary>
    internal const string ErrorTypeTag = "error.type";

    /// <summary>Replay: the buffer positions (records of either event type) this exporter had not written before the restart.</summary>
    internal const string ReplayRecordsTag = "flagexport.replay.records";

    /// <summary>Replay: how many of this exporter's events the replay wrote.</summary>
    internal const string ReplayEventsTag = "flagexport.replay.events";

    /// <summary>Replay: how many of this exporter's events the replay set aside as dead letters.</summary>
    internal const string ReplayDeadLetteredTag = "flagexport.replay.dead_lettered";

    /// <summary>Replay: how many batches the replay took (written or set aside).</summary>
    internal const string ReplayBatchesTag = "flagexport.replay.batches";

    /// <summary>Outcome of an attempt whose batch the exporter wrote.</summary>
    internal const string Written = "written";

    /// <summary>Outcome of an attempt that failed; the batch is kept and retried.</summary>
    internal const string Failed = "failed";

    /// <summary>Outcome of an attempt that failed and set the batch aside as a dead letter.</summary>
    internal const string DeadLettered = "dead_lettered";

    /// <summary>Outcome of a replay that wrote (or set aside) everything the buffer held at the start.</summary>
    internal const string Completed = "completed";

    /// <summary>Outcome of a replay the pipeline stopped before it was done: the rest stays on disk for the next start.</summary>
    internal const string Stopped = "stopped";

    /// <summary><c>error.type</c> of an attempt cancelled by <see cref="DataExporterOptions.ExportTimeout"/>.</summary>
    internal const string TimeoutErrorType = "timeout";

    /// <summary>The source. Static: listeners subscribe by name, and a source per pipeline would gain nothing.</summary>
    internal static readonly ActivitySource Source = new(SourceName, VersionOf(typeof(ExportActivities).Assembly));

    /// <summary>The package version (the informational version without its <c>+commit</c> suffix).</summary>
    private static string? VersionOf(Assembly assembly)
    {
        string? version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        int plus = version?.IndexOf('+', StringComparison.Ordinal) ?? -1;
        return plus >= 0 ? version![..plus] : version ?? assembly.GetName().Version?.ToString();
    }
}

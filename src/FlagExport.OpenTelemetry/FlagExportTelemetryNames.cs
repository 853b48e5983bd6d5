namespace FlagExport.OpenTelemetry;

/// <summary>
/// The names FlagExport's core library publishes its telemetry under. They are part of its documented contract (the
/// docs/library.md), so this package names them rather than reaching into the core's internals; the tests check they match.
/// </summary>
internal static class FlagExportTelemetryNames
{
    /// <summary>The ActivitySource of the export and replay activities.</summary>
    internal const string ActivitySource = "FlagExport";

    /// <summary>The Meter of the pipeline metrics.</summary>
    internal const string Meter = "FlagExport";
}

using FlagExport.OpenTelemetry;

namespace OpenTelemetry.Metrics;

/// <summary>Adds FlagExport's pipeline metrics to a <see cref="MeterProviderBuilder"/>.</summary>
/// <remarks>In OpenTelemetry's namespace, as its own instrumentation packages put their <c>AddXxxInstrumentation</c> methods.</remarks>
public static class FlagExportMeterProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to the Meter <c>FlagExport</c>: events added, exported, dropped, buffered and set aside, exports, failures,
    /// batch sizes and export durations, each tagged with <c>flagexport.exporter</c>; with the durable buffer, also its
    /// appender's events waiting, appended and dropped and its refused appends (shared by the exporters, so untagged by
    /// exporter). The instruments are listed in docs/library.md.
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <example>
    /// <code>
    /// services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddFlagExportInstrumentation().AddOtlpExporter());
    /// </code>
    /// </example>
    public static MeterProviderBuilder AddFlagExportInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(FlagExportTelemetryNames.Meter);
    }
}

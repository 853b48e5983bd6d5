using FlagExport.OpenTelemetry;

namespace OpenTelemetry.Trace;

/// <summary>Adds FlagExport's export traces to a <see cref="TracerProviderBuilder"/>.</summary>
/// <remarks>In OpenTelemetry's namespace, as its own instrumentation packages put their <c>AddXxxInstrumentation</c> methods.</remarks>
public static class FlagExportTracerProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to the ActivitySource <c>FlagExport</c>: one activity per export attempt (<c>flagexport.export</c>) and one
    /// per replay of the durable buffer after a restart (<c>flagexport.replay</c>). Their tags are listed in docs/library.md.
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <example>
    /// <code>
    /// services.AddOpenTelemetry().WithTracing(tracing => tracing.AddFlagExportInstrumentation().AddOtlpExporter());
    /// </code>
    /// </example>
    public static TracerProviderBuilder AddFlagExportInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(FlagExportTelemetryNames.ActivitySource);
    }
}

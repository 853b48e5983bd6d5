using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.FeatureManagement;

namespace FlagExport.FeatureManagement;

/// <summary>Exports the evaluations of Microsoft.FeatureManagement through FlagExport.</summary>
public static class FlagExportFeatureManagementExtensions
{
    /// <summary>
    /// Hands every evaluation that Microsoft.FeatureManagement publishes to <see cref="IFlagEventSink.Add"/> as one
    /// <see cref="FeatureEvent"/>, so that the exporters added with <c>services.AddFlagExport(export =&gt; ...)</c> write
    /// it. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddFeatureManagement</c> or <c>AddScopedFeatureManagement</c>.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// <para>
    /// Microsoft.FeatureManagement publishes an evaluation only for a flag whose definition has
    /// <c>"telemetry": { "enabled": true }</c>; other flags export nothing. It publishes through
    /// <see cref="System.Diagnostics.ActivitySource"/> <c>Microsoft.FeatureManagement</c>, its only hook: a listener on
    /// that source, started when the host starts (before other hosted services) and stopped when it has stopped,
    /// receives each evaluation on the evaluating thread and costs it one <see cref="IFlagEventSink.Add"/>. The listener
    /// never throws into the evaluation: a failure is counted and logged. Like every listener of an
    /// <see cref="System.Diagnostics.ActivitySource"/>, it sees the evaluations of the whole process.
    /// </para>
    /// <para>
    /// Each evaluation becomes a <see cref="FeatureEvent"/> with <see cref="ExportableEvent.Key"/> the flag's name;
    /// <see cref="FeatureEvent.Variation"/> the variant's name, or <c>True</c> or <c>False</c> when no variant was
    /// assigned; <see cref="FeatureEvent.Value"/> the enabled state when no variant was assigned, else the variant's
    /// configuration value when the flags come from the configuration (the default definition provider), else the
    /// variant's name; <see cref="ExportableEvent.UserKey"/> the targeting id with the context kind <c>user</c>, or an
    /// empty key with <c>anonymousUser</c> when there is none; <see cref="FeatureEvent.Default"/> true when the variant is
    /// the flag's default (when disabled or when enabled); <see cref="FeatureEvent.Version"/> the <c>ETag</c> of the
    /// flag's telemetry metadata, or empty; <see cref="FeatureEvent.Source"/> <c>SERVER</c>;
    /// <see cref="ExportableEvent.CreationDate"/> the time of the evaluation by the registered
    /// <see cref="TimeProvider"/>; and <see cref="FeatureEvent.Metadata"/> the flag's telemetry metadata.
    /// </para>
    /// <para>
    /// The host fails to start when no <see cref="IFlagEventSink"/> is registered, that is when
    /// <c>services.AddFlagExport(...)</c> was not called.
    /// </para>
    /// </remarks>
    /// <example>
    /// <code>
    /// builder.Services.AddFeatureManagement().AddFlagExport();
    /// builder.Services.AddFlagExport(export => export.AddFileExporter("json", file => file.OutputDir = "./exports"));
    /// </code>
    /// </example>
    public static IFeatureManagementBuilder AddFlagExport(this IFeatureManagementBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EvaluationExportService>());
        return builder;
    }
}

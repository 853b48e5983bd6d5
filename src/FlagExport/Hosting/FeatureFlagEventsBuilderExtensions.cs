using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlagExport;

/// <summary>Exports the feature-flag evaluations that any flag SDK records as OpenTelemetry events.</summary>
public static class FeatureFlagEventsBuilderExtensions
{
    /// <summary>
    /// Exports every <c>feature_flag.evaluation</c> event (OpenTelemetry's semantic conventions for feature flags) that is
    /// recorded on an activity of the ActivitySources <paramref name="activitySourceNames"/> as a <see cref="FeatureEvent"/>,
    /// through the pipelines of <see cref="EventType.Feature"/> events. This is how the OpenFeature SDK's
    /// <c>TraceEnricherHook</c> records evaluations: on <c>Activity.Current</c>, so name the sources whose activities are
    /// current while flags are evaluated (for ASP.NET Core requests, <c>Microsoft.AspNetCore</c>). Safe to call more than
    /// once; the names add up.
    /// </summary>
    /// <param name="builder">The FlagExport builder.</param>
    /// <param name="activitySourceNames">
    /// ActivitySource names; <c>*</c> matches any run of characters and <c>?</c> one, case-insensitively, as OpenTelemetry's
    /// <c>AddSource</c> does. FlagExport's own source never matches.
    /// </param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// <para>An evaluation is exported when the activity it was recorded on stops, with the event's timestamp as its
    /// <see cref="ExportableEvent.CreationDate"/>. The listener asks for the activities' data without marking them
    /// recorded, so the application's own sampling and trace export stay as they are. It starts and stops with the host.</para>
    /// <para>The attributes read are listed in docs/library.md; an event without <c>feature_flag.key</c> is skipped.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">No name is given, or one is empty.</exception>
    public static FlagExportBuilder AddFeatureFlagEvents(this FlagExportBuilder builder, params string[] activitySourceNames)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(activitySourceNames);
        if (activitySourceNames.Length == 0)
        {
            throw new ArgumentException("Name at least one ActivitySource whose activities carry the feature-flag evaluation events.", nameof(activitySourceNames));
        }

        foreach (string name in activitySourceNames)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name, nameof(activitySourceNames));
        }

        string[] names = [.. activitySourceNames];
        _ = builder.Services.Configure<FeatureFlagEventsOptions>(o => o.ActivitySourceNames.AddRange(names));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, FeatureFlagEventListener>());
        return builder;
    }
}

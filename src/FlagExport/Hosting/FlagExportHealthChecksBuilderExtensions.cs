using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>Registers the FlagExport health check in a <see cref="IHealthChecksBuilder"/>.</summary>
public static class FlagExportHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a readiness check of every exporter pipeline registered with
    /// <see cref="FlagExportServiceCollectionExtensions.AddFlagExport(IServiceCollection)"/>. It reports
    /// <paramref name="failureStatus"/>, naming each exporter and why, when an exporter has failed without a success for
    /// <see cref="FlagExportHealthCheckOptions.FailingAfter"/>, when a buffer is nearly full
    /// (<see cref="FlagExportHealthCheckOptions.BufferFullRatio"/>), or when dead letters were written since the start.
    /// </summary>
    /// <param name="builder">The health checks builder, from <c>services.AddHealthChecks()</c>.</param>
    /// <param name="name">The check's name, and the name of its <see cref="FlagExportHealthCheckOptions"/>. The default value is <c>flagexport</c>.</param>
    /// <param name="configure">Sets the thresholds. The default value is none: the options' defaults.</param>
    /// <param name="failureStatus">The status reported for a failing exporter. The default value is <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by, for example <c>ready</c>. The default value is none.</param>
    /// <returns>The builder.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHealthChecks().AddFlagExport(configure: o => o.FailingAfter = TimeSpan.FromMinutes(5), tags: ["ready"]);
    /// app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddFlagExport(
        this IHealthChecksBuilder builder,
        string name = "flagexport",
        Action<FlagExportHealthCheckOptions>? configure = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);

        OptionsBuilder<FlagExportHealthCheckOptions> options = builder.Services.AddOptions<FlagExportHealthCheckOptions>(name).ValidateOnStart();
        if (configure is not null)
        {
            _ = options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FlagExportHealthCheckOptions>, FlagExportHealthCheckOptionsValidator>());
        return builder.Add(new HealthCheckRegistration(
            name,
            services => new FlagExportHealthCheck(
                services.GetService<ExporterPipelines>()
                    ?? throw new InvalidOperationException("The FlagExport health check needs the FlagExport services: call services.AddFlagExport() too."),
                services.GetRequiredService<IOptionsMonitor<FlagExportHealthCheckOptions>>().Get(name),
                services.GetService<TimeProvider>() ?? TimeProvider.System),
            failureStatus,
            tags));
    }
}

using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>Registers FlagExport in a <see cref="IServiceCollection"/>.</summary>
public static class FlagExportServiceCollectionExtensions
{
    /// <summary>
    /// Registers the FlagExport services: <see cref="IFlagEventSink"/>, a hosted service that starts the pipelines and
    /// flushes them when the host stops, and option validation at start-up. Add pipelines with the builder returned.
    /// Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to add exporter pipelines.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddFlagExport()
    ///     .AddExporter("audit", sp => new MyExporter(), o => o.FlushInterval = TimeSpan.FromSeconds(10));
    /// </code>
    /// </example>
    public static FlagExportBuilder AddFlagExport(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _ = services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DataExporterOptions>, DataExporterOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DurableBufferOptions>, DurableBufferOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DurableBufferOptions>, FlagExportSectionValidator>());
        if (!services.Any(d => d.ServiceType == typeof(DurableBufferConfigurationMarker)))
        {
            // After code (UseDurableBuffer): FlagExport:BufferDirectory and FlagExport:MaxBufferBytes win, as every option does.
            _ = services.AddSingleton<DurableBufferConfigurationMarker>();
            _ = services.AddOptions<DurableBufferOptions>()
                .PostConfigure<IServiceProvider>((o, sp) =>
                {
                    if (sp.GetService<IConfiguration>()?.GetSection(FlagExportBuilder.SectionName) is { } section)
                    {
                        OptionsBinding.Bind(section, o, static (section, options) => section.Bind(options));
                    }
                })
                .ValidateOnStart();
        }

        services.TryAddSingleton(static sp => new ExporterPipelines(
            sp.GetServices<ExporterRegistration>(),
            sp,
            sp.GetRequiredService<IOptionsMonitor<DataExporterOptions>>(),
            sp.GetRequiredService<IOptions<DurableBufferOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IFlagEventSink>(static sp => sp.GetRequiredService<ExporterPipelines>());
        services.TryAddSingleton<IEventIntake>(static sp => sp.GetRequiredService<ExporterPipelines>().Intake);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, FlagExportHostedService>());
        return new FlagExportBuilder(services);
    }

    /// <summary>Registers the FlagExport services and lets <paramref name="configure"/> add exporter pipelines.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adds pipelines, for example with <see cref="FlagExportBuilder.AddExporter"/>.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddFlagExport(this IServiceCollection services, Action<FlagExportBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(services.AddFlagExport());
        return services;
    }

    /// <summary>Marks that the durable buffer's configuration binding is registered (AddFlagExport may be called again).</summary>
    private sealed class DurableBufferConfigurationMarker;
}

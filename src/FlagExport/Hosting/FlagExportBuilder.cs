using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>
/// Registers the exporter pipelines of <c>AddFlagExport</c>. Exporter kinds (file, S3, ...) add their own extension
/// methods on this type that call <see cref="AddExporter"/>.
/// </summary>
/// <example>
/// An exporter of your own, its pipeline options read from <c>FlagExport:Exporters:my-store</c> over the defaults set here:
/// <code>
/// services.AddFlagExport(export => export.AddExporter(
///     "my-store", sp => new MyStoreExporter(sp.GetRequiredService&lt;IMyStoreClient&gt;()), pipeline => pipeline.FlushInterval = TimeSpan.FromSeconds(10)));
/// </code>
/// Exporters that write files (formats, names, partitions) register through <c>AddExportFileExporter</c>, which also
/// binds and validates their own options from the same section.
/// </example>
public sealed class FlagExportBuilder
{
    /// <summary>The root configuration section. The default value is <c>FlagExport</c>.</summary>
    internal const string SectionName = "FlagExport";

    internal FlagExportBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection the pipelines are registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// The configuration section of the exporter named <paramref name="name"/>: <c>FlagExport:Exporters:&lt;name&gt;</c>.
    /// Exporter kinds bind their own options from the same section.
    /// </summary>
    /// <param name="name">The exporter's name.</param>
    internal static string GetConfigurationPath(string name) => $"{DataExporterOptionsValidator.ExportersSection}:{name}";

    /// <summary>
    /// Turns the durable buffer on: every event is written to a write-ahead log in <paramref name="bufferDirectory"/>
    /// before the exporters read it, so that a crash loses nothing that reached the disk. The same as setting
    /// <c>FlagExport:BufferDirectory</c> (and <c>FlagExport:MaxBufferBytes</c>) in configuration, which overrides it
    /// (configuration is bound after code, see <c>AddFlagExport</c>).
    /// </summary>
    /// <param name="bufferDirectory">The folder of the buffer; one per process.</param>
    /// <param name="maxBufferBytes">The most bytes held on disk. The default value is 10 GiB.</param>
    /// <returns>This builder.</returns>
    /// <remarks>
    /// <see cref="IFlagEventSink.Add"/> still never blocks: added events wait in memory (at most the largest
    /// <see cref="DataExporterOptions.MaxBufferedEvents"/> of the exporters of their type; more are dropped and counted)
    /// while a background writer appends them to the disk, as soon as the previous append is on disk;
    /// <see cref="IFlagEventSink.FlushAsync"/> waits until those added before it are on disk.
    /// </remarks>
    public FlagExportBuilder UseDurableBuffer(string bufferDirectory, long? maxBufferBytes = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bufferDirectory);
        _ = Services.Configure<DurableBufferOptions>(o =>
        {
            o.BufferDirectory = bufferDirectory;
            if (maxBufferBytes is long max)
            {
                o.MaxBufferBytes = max;
            }
        });
        return this;
    }

    /// <summary>
    /// Registers a named export pipeline: its own buffer, worker and <see cref="DataExporterOptions"/> (the named options
    /// <paramref name="name"/>), exporting with the exporter that <paramref name="factory"/> creates.
    /// </summary>
    /// <param name="name">A unique name, used as options name, configuration key, log and metric tag. Must not contain ':'.</param>
    /// <param name="factory">
    /// Creates the exporter once, when the pipelines start. The pipeline does not dispose it: to have it disposed, register
    /// it in the container and resolve it here; the container disposes it after the pipelines have shut down.
    /// </param>
    /// <param name="configure">
    /// Sets the options in code. Runs first: values in the configuration section
    /// <c>FlagExport:Exporters:&lt;name&gt;</c> override it. Options are validated when the host starts.
    /// </param>
    /// <returns>This builder.</returns>
    /// <remarks>The options are read once, when the pipelines start; a configuration reload takes effect at the next start.</remarks>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, contains ':' or is already registered.</exception>
    public FlagExportBuilder AddExporter(string name, Func<IServiceProvider, IExporter> factory, Action<DataExporterOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (name.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The exporter name must not contain ':' (it is a configuration key); got '{name}'.", nameof(name));
        }

        foreach (ServiceDescriptor descriptor in Services)
        {
            if (descriptor.ServiceType == typeof(ExporterRegistration)
                && descriptor.ImplementationInstance is ExporterRegistration existing
                && string.Equals(existing.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"An exporter named '{name}' is already registered.", nameof(name));
            }
        }

        _ = Services.AddSingleton(new ExporterRegistration(name, factory));

        string path = GetConfigurationPath(name);
        OptionsBuilder<DataExporterOptions> options = Services.AddOptions<DataExporterOptions>(name);
        if (configure is not null)
        {
            _ = options.Configure(configure);
        }

        // Without a host there may be no IConfiguration: then the options come from code alone.
        _ = options
            .Configure<IServiceProvider>((o, services) =>
            {
                if (services.GetService<IConfiguration>()?.GetSection(path) is { } section)
                {
                    OptionsBinding.Bind(section, o, static (section, options) => section.Bind(options));
                }
            })
            .ValidateOnStart();
        return this;
    }
}

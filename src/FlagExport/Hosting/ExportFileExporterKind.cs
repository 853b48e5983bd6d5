using Microsoft.Extensions.Configuration;

namespace FlagExport;

/// <summary>
/// What a kind of exporter supplies to <see cref="ExportFileExporterBuilderExtensions.AddExportFileExporter"/>: how its
/// options are bound and checked, and how the exporter is built from them. One instance serves every exporter of the
/// kind; the name and the options set in code are given per registration.
/// </summary>
/// <typeparam name="TOptions">The exporter's options.</typeparam>
/// <typeparam name="TExporter">The exporter.</typeparam>
public sealed class ExportFileExporterKind<TOptions, TExporter>
    where TOptions : class
    where TExporter : class, IExporter
{
    /// <summary>Binds the exporter's configuration section to the options; supplied so that the binder sees the concrete type.</summary>
    public required Action<IConfigurationSection, TOptions> Bind { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the option when the options cannot work for the event type.</summary>
    public required Action<TOptions, EventType> Validate { get; init; }

    /// <summary>
    /// Builds the exporter when the pipelines start. It is registered as a keyed singleton (key: the exporter's name), so
    /// that the container disposes it, and what it owns, after the pipelines have stopped.
    /// </summary>
    public required Func<IServiceProvider, TOptions, EventType, TExporter> Create { get; init; }

    /// <summary>
    /// The message for a key of the section that no option reads, when the kind has more to say than the list of valid
    /// options (S3: credentials never come from configuration); null, or a null answer, for the usual message.
    /// </summary>
    public Func<string, string?>? ExplainUnknownKey { get; init; }
}

using Microsoft.Extensions.Configuration;

namespace FlagExport;

/// <summary>
/// Describes a kind of exporter to <see cref="ExportFileExporterBuilderExtensions.AddExportFileExporter"/>: how its
/// options are bound and checked, and how the exporter is built from them. The exporter's name and the options set in
/// code are given per registration, so a descriptor whose delegates capture nothing of one registration can be shared
/// (a static field).
/// </summary>
/// <typeparam name="TOptions">The exporter's options: <see cref="ExportFileOptions"/> and its own.</typeparam>
/// <typeparam name="TExporter">The exporter.</typeparam>
public sealed class ExportFileExporterDescriptor<TOptions, TExporter>
    where TOptions : ExportFileOptions
    where TExporter : class, IExporter
{
    /// <summary>
    /// Binds the exporter's configuration section to the options, usually <c>section.Bind(options)</c>: written where
    /// the concrete options type is known, so that the configuration binder's source generator, when the project turns
    /// it on, binds without reflection.
    /// </summary>
    public required Action<IConfigurationSection, TOptions> BindOptions { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the option when the options cannot work for the pipeline's event
    /// type; called when the host starts, before any exporter is built. It makes no request to the store.
    /// </summary>
    public required Action<TOptions, EventType> ValidateOptions { get; init; }

    /// <summary>
    /// Builds the exporter from the host's services, its options and the pipeline's event type, when the pipelines start.
    /// It is registered as a keyed singleton (key: the exporter's name), so that the container disposes it, and what it
    /// owns, after the pipelines have stopped.
    /// </summary>
    public required Func<IServiceProvider, TOptions, EventType, TExporter> ExporterFactory { get; init; }

    /// <summary>
    /// Null for the usual message on a key of the section that no option reads (it lists the valid options); otherwise
    /// what to say about such a key when the kind has more to say (S3: credentials never come from the configuration),
    /// or null for that key.
    /// </summary>
    public Func<string, string?>? UnknownKeyMessage { get; init; }
}

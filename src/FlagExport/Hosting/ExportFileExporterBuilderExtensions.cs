using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>
/// The registration every exporter kind that writes files or objects shares (file, S3, one of your own): named options
/// bound from the exporter's own configuration section, checked when the host starts (every invalid or unknown key
/// reported at once, named by its configuration path), and a pipeline whose exporter is built from them.
/// </summary>
public static class ExportFileExporterBuilderExtensions
{
    /// <summary>Registers an exporter of the kind <paramref name="descriptor"/> describes under <paramref name="name"/>.</summary>
    /// <typeparam name="TOptions">The exporter's options: <see cref="ExportFileOptions"/> and its own.</typeparam>
    /// <typeparam name="TExporter">The exporter.</typeparam>
    /// <param name="builder">The FlagExport builder.</param>
    /// <param name="name">The exporter's name; its section is <c>FlagExport:Exporters:&lt;name&gt;</c>.</param>
    /// <param name="descriptor">How the kind binds and checks its options and builds its exporter.</param>
    /// <param name="configure">Sets the exporter's options in code; the configuration section overrides it.</param>
    /// <param name="configurePipeline">Sets the pipeline's options in code; the configuration section overrides it.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException">The builder, the descriptor or one of its required delegates is null.</exception>
    public static FlagExportBuilder AddExportFileExporter<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties)] TOptions, TExporter>(
        this FlagExportBuilder builder,
        string name,
        ExportFileExporterDescriptor<TOptions, TExporter> descriptor,
        Action<TOptions>? configure = null,
        Action<DataExporterOptions>? configurePipeline = null)
        where TOptions : ExportFileOptions
        where TExporter : class, IExporter
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(descriptor.BindOptions);
        ArgumentNullException.ThrowIfNull(descriptor.ValidateOptions);
        ArgumentNullException.ThrowIfNull(descriptor.ExporterFactory);
        return AddOptionsExporter(
            builder, name, configure, configurePipeline,
            descriptor.BindOptions, descriptor.ValidateOptions, descriptor.ExporterFactory, descriptor.UnknownKeyMessage);
    }

    /// <summary>
    /// <see cref="AddExportFileExporter"/> for an exporter whose options are its own, not <see cref="ExportFileOptions"/>
    /// (the webhook's): the same binding, checks and pipeline.
    /// </summary>
    internal static FlagExportBuilder AddOptionsExporter<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties)] TOptions, TExporter>(
        this FlagExportBuilder builder,
        string name,
        Action<TOptions>? configure,
        Action<DataExporterOptions>? configurePipeline,
        Action<IConfigurationSection, TOptions> bind,
        Action<TOptions, EventType> validate,
        Func<IServiceProvider, TOptions, EventType, TExporter> create,
        Func<string, string?>? explainUnknownKey = null)
        where TOptions : class
        where TExporter : class, IExporter
    {
        ArgumentNullException.ThrowIfNull(builder);

        // First: AddExporter refuses a duplicate name before anything else is registered.
        _ = builder.AddExporter(name, services => services.GetRequiredKeyedService<TExporter>(name), configurePipeline);
        _ = builder.Services.AddKeyedSingleton(name, (services, _) => create(
            services,
            services.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name),
            services.GetRequiredService<IOptionsMonitor<DataExporterOptions>>().Get(name).EventType));

        OptionsBuilder<TOptions> options = builder.Services.AddOptions<TOptions>(name);
        if (configure is not null)
        {
            _ = options.Configure(configure);
        }

        string path = FlagExportBuilder.GetConfigurationPath(name);
        _ = options
            .Configure<IServiceProvider>((o, services) =>
            {
                if (services.GetService<IConfiguration>()?.GetSection(path) is { } section)
                {
                    OptionsBinding.Bind(section, o, bind);
                }
            })
            .ValidateOnStart();
        _ = builder.Services.AddSingleton<IValidateOptions<TOptions>>(services => new Validator<TOptions>(
            name, path, validate, services.GetRequiredService<IOptionsMonitor<DataExporterOptions>>()));
        _ = builder.Services.AddSingleton<IValidateOptions<TOptions>>(services => new UnknownKeysValidator<TOptions>(
            name, path, services.GetService<IConfiguration>(), KnownKeys<TOptions>(), explainUnknownKey));
        return builder;
    }

    /// <summary>The keys one exporter's section may hold: its own options and the pipeline's.</summary>
    private static HashSet<string> KnownKeys<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>()
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Reflection.PropertyInfo property in typeof(TOptions).GetProperties())
        {
            _ = keys.Add(property.Name);
        }

        foreach (System.Reflection.PropertyInfo property in typeof(DataExporterOptions).GetProperties())
        {
            _ = keys.Add(property.Name);
        }

        return keys;
    }

    /// <summary>
    /// Refuses a key in the exporter's section that no option reads: the binder ignores it, so a typo such as
    /// <c>Compresion</c> would otherwise leave the option at its default without a word.
    /// </summary>
    private sealed class UnknownKeysValidator<TOptions>(
        string name, string path, IConfiguration? configuration, HashSet<string> known, Func<string, string?>? explain)
        : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? optionsName, TOptions options)
        {
            if (optionsName != name || configuration is null)
            {
                return ValidateOptionsResult.Skip;
            }

            List<string> unknown = [.. configuration.GetSection(path).GetChildren().Select(c => c.Key).Where(key => !known.Contains(key))];
            return unknown.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(unknown.Select(key => explain?.Invoke(key) is { } explanation
                    ? $"{path}:{key} {explanation}"
                    : $"{path}:{key} is not an option of this exporter; valid options are {string.Join(", ", known.Order(StringComparer.Ordinal))}."));
        }
    }

    private static bool Check<TOptions>(string path, TOptions options, EventType eventType, Action<TOptions, EventType> validate, out string? failure)
    {
        try
        {
            validate(options, eventType);
            failure = null;
            return true;
        }
        catch (ArgumentException error)
        {
            // "Format 'xml' is not …" becomes "FlagExport:Exporters:file:Format 'xml' is not …", the key users set.
            failure = OptionErrors.Failure(path, error);
            return false;
        }
    }

    private sealed class Validator<TOptions>(
        string name, string path, Action<TOptions, EventType> validate, IOptionsMonitor<DataExporterOptions> pipelines)
        : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? optionsName, TOptions options)
        {
            if (optionsName != name)
            {
                return ValidateOptionsResult.Skip;
            }

            // A pipeline option that does not bind is reported by the pipeline's validator; the CSV template is then
            // checked against the default event type.
            EventType eventType = EventType.Feature;
            try
            {
                eventType = pipelines.Get(name).EventType;
            }
            catch (OptionsValidationException)
            {
            }

            List<string> failures = [.. OptionsBinding.FailuresOf(options)];

            // Every problem of the file options, not only the first that the exporter's own check stops at.
            if (options is ExportFileOptions fileOptions)
            {
                failures.AddRange(ExportFileEncoder.Problems(fileOptions, eventType).Select(problem => OptionErrors.Failure(path, problem)));
            }

            if (!Check(path, options, eventType, validate, out string? failure) && !failures.Contains(failure!))
            {
                failures.Add(failure!);
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>
/// Refuses keys of the <c>FlagExport</c> section that nothing reads: a key beside <c>BufferDirectory</c>,
/// <c>MaxBufferBytes</c> and <c>Exporters</c>, or an exporter section whose name no registered exporter has
/// (<c>FlagExport:Exporters:fille:Format</c>), which the binder would otherwise ignore without a word.
/// </summary>
/// <remarks>Runs with the durable buffer's options, which <c>AddFlagExport</c> validates once per host at start-up.</remarks>
internal sealed class FlagExportSectionValidator(IServiceProvider services) : IValidateOptions<DurableBufferOptions>
{
    private static readonly string[] TopLevelKeys =
        [nameof(DurableBufferOptions.BufferDirectory), nameof(DurableBufferOptions.MaxBufferBytes), "Exporters"];

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, DurableBufferOptions options)
    {
        if (name != Options.DefaultName || services.GetService<IConfiguration>() is not { } configuration)
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        IConfigurationSection section = configuration.GetSection(FlagExportBuilder.SectionName);
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!TopLevelKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                failures.Add($"{child.Path} is not a FlagExport option; valid keys are {string.Join(", ", TopLevelKeys)}.");
            }
        }

        string[] registered = [.. services.GetServices<ExporterRegistration>().Select(r => r.Name)];
        foreach (IConfigurationSection exporter in configuration.GetSection(DataExporterOptionsValidator.ExportersSection).GetChildren())
        {
            if (!registered.Contains(exporter.Key, StringComparer.OrdinalIgnoreCase))
            {
                failures.Add(registered.Length == 0
                    ? $"{exporter.Path} configures an exporter that is not registered; no exporter is."
                    : $"{exporter.Path} configures an exporter that is not registered; the exporters are {string.Join(", ", registered)}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

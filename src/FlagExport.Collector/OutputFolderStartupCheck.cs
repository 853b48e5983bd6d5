using FlagExport.Collector.Configuration;
using Microsoft.Extensions.Hosting;

namespace FlagExport.Collector;

/// <summary>
/// Stops start-up when the buffer folder (<c>bufferDirectory</c>), a file exporter's <c>outputDir</c> or an exporter's
/// <c>deadLetterDirectory</c> cannot be created or written, listing every such folder: a batch that can be neither written
/// nor set aside would be retried for good, and events that cannot reach the buffer cannot be acknowledged. Registered
/// before the exporters, so it runs before any pipeline starts or the buffer is opened; it reads the options the
/// exporters are built from, so a folder overridden under <c>FlagExport:</c> is the one checked.
/// </summary>
internal sealed class OutputFolderStartupCheck(CollectorSettings settings, IServiceProvider services) : IHostedService
{
    /// <exception cref="CollectorConfigurationException">A folder cannot be used; every one is listed.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        List<string> problems = Problems(settings, services);
        if (BufferFolder.Of(services).Problem(create: true) is { } buffer)
        {
            problems.Insert(0, buffer);
        }

        return problems.Count > 0 ? throw new CollectorConfigurationException(problems) : Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Checks the output folder of every file exporter and every dead-letter folder (each once); one line per folder that cannot be used.</summary>
    internal static List<string> Problems(CollectorSettings settings, IServiceProvider services)
    {
        var problems = new List<string>();
        foreach (FileExporterSpec exporter in settings.Exporters.OfType<FileExporterSpec>())
        {
            if (OutputFolderCheck.Problem(exporter.Path, exporter.Options(services).OutputDir) is { } problem)
            {
                problems.Add(problem);
            }
        }

        var checkedFolders = new HashSet<string>(StringComparer.Ordinal);
        foreach (ExporterSpec exporter in settings.Exporters)
        {
            string deadLetters = exporter.Pipeline(services).DeadLetterDirectory;
            if (checkedFolders.Add(Path.GetFullPath(deadLetters))
                && OutputFolderCheck.Problem(exporter.Path, deadLetters, "deadLetterDirectory") is { } problem)
            {
                problems.Add(problem);
            }
        }

        return problems;
    }
}

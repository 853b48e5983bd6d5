using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlagExport;

/// <summary>
/// Starts the export pipelines with the host and flushes them when it stops.
/// </summary>
/// <remarks>
/// The pipelines start when <see cref="StartAsync"/> first resolves <see cref="ExporterPipelines"/> (which creates the
/// exporters and starts one worker per pipeline), or earlier if the application resolves <see cref="IFlagEventSink"/>
/// first. Not in the constructor: the host creates its hosted services before it validates the options, and the
/// validation reports every invalid option at once where building an exporter would stop at the first.
/// <see cref="StopAsync"/> stops accepting events and writes what is left, each pipeline within its
/// <see cref="DataExporterOptions.ShutdownTimeout"/> or until the host's shutdown token fires.
/// </remarks>
internal sealed class FlagExportHostedService(IServiceProvider services) : IHostedService
{
    private ExporterPipelines? _pipelines;

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _pipelines = services.GetRequiredService<ExporterPipelines>();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => _pipelines?.ShutdownAsync(cancellationToken) ?? Task.CompletedTask;
}

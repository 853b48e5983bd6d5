using Microsoft.Extensions.Hosting;

namespace FlagExport;

/// <summary>
/// Starts the export pipelines with the host and flushes them when it stops.
/// </summary>
/// <remarks>
/// The pipelines start when this service is created (resolving <see cref="ExporterPipelines"/> creates the exporters
/// and starts one worker per pipeline). <see cref="StopAsync"/> stops accepting events and writes what is left, each
/// pipeline within its <see cref="DataExporterOptions.ShutdownTimeout"/> or until the host's shutdown token fires.
/// </remarks>
internal sealed class FlagExportHostedService(ExporterPipelines pipelines) : IHostedService
{
    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => pipelines.ShutdownAsync(cancellationToken);
}

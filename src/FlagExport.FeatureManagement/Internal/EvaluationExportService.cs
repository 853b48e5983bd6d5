using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.FeatureManagement;

namespace FlagExport.FeatureManagement;

/// <summary>
/// Runs the <see cref="EvaluationListener"/> for the host's lifetime: from <see cref="StartingAsync"/>, so that the
/// evaluations of other hosted services' start-up are exported too, to <see cref="StoppedAsync"/>, so that those of
/// their shutdown are (until the pipelines stop taking events).
/// </summary>
internal sealed class EvaluationExportService(IServiceProvider services) : IHostedLifecycleService, IDisposable
{
    private EvaluationListener? _listener;

    /// <summary>The running listener, for tests.</summary>
    internal EvaluationListener? Listener => _listener;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _listener ??= Create();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => Interlocked.Exchange(ref _listener, null)?.Dispose();

    private EvaluationListener Create()
    {
        IFlagEventSink sink = services.GetService<IFlagEventSink>() ?? throw new InvalidOperationException(
            "AddFeatureManagement().AddFlagExport() hands evaluations to IFlagEventSink, which is not registered: " +
            "call services.AddFlagExport(export => ...) to add the exporters.");

        // Only the configuration provider is known to answer from memory; another provider might do I/O on the
        // evaluating thread, so its variants are exported by name.
        var definitions = services.GetService<IFeatureDefinitionProvider>() as ConfigurationFeatureDefinitionProvider;
        ILogger logger = services.GetService<ILoggerFactory>()?.CreateLogger("FlagExport.FeatureManagement") ?? NullLogger.Instance;
        return new EvaluationListener(sink, new EvaluationMapper(definitions, services.GetRequiredService<TimeProvider>()), logger);
    }
}

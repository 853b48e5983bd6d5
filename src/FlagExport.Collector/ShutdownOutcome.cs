using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlagExport.Collector;

/// <summary>
/// How a run of the collector ended, for its exit code: watches the application's lifetime and, once the host has
/// stopped (every pipeline has drained or reached its deadline), counts what the pipelines could not write.
/// </summary>
/// <remarks>
/// Read at <c>ApplicationStopped</c>, not after <c>RunAsync</c> returns: by then the container, and the logger, are
/// disposed. Dead letters do not change the exit code: their events are on disk, and exiting non-zero would make an
/// orchestrator report a crash and restart the collector, which heals nothing; they are logged as a warning instead.
/// </remarks>
internal sealed class ShutdownOutcome
{
    private ExporterPipelines? _pipelines;
    private bool _concluded;

    private ShutdownOutcome()
    {
    }

    /// <summary>The exit code: <see cref="ExitCodes.Success"/> until the stop finds events lost.</summary>
    public int ExitCode { get; private set; } = ExitCodes.Success;

    /// <summary>True once the host has started: a failure from then on is a failed run, not a failed start.</summary>
    public bool Started => _pipelines is not null;

    /// <summary>
    /// The exit code of a run whose stop threw <paramref name="exception"/> after a successful start: what the pipelines
    /// did not write decides it, as for a stop that did not throw (the exception is printed to <paramref name="error"/>).
    /// </summary>
    public async Task<int> AfterFailedStopAsync(Exception exception, TextWriter error)
    {
        await error.WriteLineAsync($"The collector stopped with an error: {exception.Message}").ConfigureAwait(false);
        if (!_concluded && _pipelines is not null && _pipelines.Pipelines.Any(p => p.NotWrittenCount > 0))
        {
            // ApplicationStopped did not run (the stop threw before it): count here, the logger may be gone.
            ExitCode = ExitCodes.EventsLost;
            long lost = _pipelines.Pipelines.Sum(p => p.NotWrittenCount);
            await error.WriteLineAsync($"{lost} events were neither written nor kept in a durable buffer; exit code {ExitCode}.").ConfigureAwait(false);
        }

        return ExitCode;
    }

    /// <summary>Watches <paramref name="app"/>; call before running it.</summary>
    public static ShutdownOutcome Watch(WebApplication app)
    {
        var outcome = new ShutdownOutcome();
        // Captured once started: resolving the pipelines creates them, which a host that failed to start must not do here.
        _ = app.Lifetime.ApplicationStarted.Register(() => outcome._pipelines = app.Services.GetRequiredService<ExporterPipelines>());
        _ = app.Lifetime.ApplicationStopped.Register(() => outcome.OnStopped(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ShutdownOutcome>()));
        return outcome;
    }

    private void OnStopped(ILogger logger)
    {
        if (_pipelines is null)
        {
            return;
        }

        _concluded = true;

        // NotWrittenCount excludes events kept in the durable buffer: the next start exports them.
        ExportWorker[] lost = [.. _pipelines.Pipelines.Where(p => p.NotWrittenCount > 0)];
        if (lost.Length > 0)
        {
            ExitCode = ExitCodes.EventsLost;
            logger.EventsLost(lost.Sum(p => p.NotWrittenCount), string.Join(", ", lost.Select(p => $"{p.Name}: {p.NotWrittenCount}")), ExitCode);
        }

        ExportWorker[] deadLettered = [.. _pipelines.Pipelines.Where(p => p.DeadLetterBatchCount > 0)];
        if (deadLettered.Length > 0)
        {
            logger.DeadLettersWritten(
                deadLettered.Sum(p => p.DeadLetterBatchCount),
                deadLettered.Sum(p => p.DeadLetteredCount),
                string.Join(", ", deadLettered.Select(p => $"{p.Name}: {p.DeadLetterBatchCount} in {p.DeadLetterDirectory}")));
        }
    }
}

using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>
/// The pipelines registered with <see cref="FlagExportBuilder.AddExporter"/>, created and started together; the
/// <see cref="IFlagEventSink"/> that fans events out to the pipelines of their type.
/// </summary>
/// <remarks>
/// Implements <see cref="IDisposable"/> as well, so that a container disposed synchronously still drains the pipelines
/// (blocking up to their shutdown deadlines) instead of throwing for an async-only singleton.
/// </remarks>
internal sealed class ExporterPipelines : IFlagEventSink, IAsyncDisposable, IDisposable
{
    private readonly DataExporter[] _all;
    private readonly DataExporter[] _feature;
    private readonly DataExporter[] _tracking;

    /// <summary>Creates every registered exporter and starts its pipeline.</summary>
    /// <exception cref="OptionsValidationException">The options of a pipeline are invalid.</exception>
    internal ExporterPipelines(
        IEnumerable<ExporterRegistration> registrations,
        IServiceProvider services,
        IOptionsMonitor<DataExporterOptions> options,
        TimeProvider timeProvider,
        ILoggerFactory? loggerFactory,
        IMeterFactory? meterFactory)
    {
        ILogger? logger = loggerFactory?.CreateLogger<DataExporter>();
        var created = new List<DataExporter>();
        try
        {
            foreach (ExporterRegistration registration in registrations)
            {
                IExporter exporter = registration.Factory(services)
                    ?? throw new InvalidOperationException($"The factory of exporter '{registration.Name}' returned null.");
                created.Add(new DataExporter(exporter, options.Get(registration.Name), registration.Name, registration.Name, timeProvider, logger, meterFactory, jitterSample: null));
            }
        }
        catch
        {
            // Do not leave workers of the pipelines already started running.
            foreach (DataExporter pipeline in created)
            {
                pipeline.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }

        _all = [.. created];
        _feature = [.. created.Where(p => p.EventType == EventType.Feature)];
        _tracking = [.. created.Where(p => p.EventType == EventType.Tracking)];
    }

    /// <summary>The pipelines, in registration order.</summary>
    internal IReadOnlyList<DataExporter> Pipelines => _all;

    /// <inheritdoc/>
    public bool Add(ExportableEvent exportableEvent)
    {
        ArgumentNullException.ThrowIfNull(exportableEvent);
        DataExporter[] targets = exportableEvent.EventType == EventType.Feature ? _feature : _tracking;
        bool accepted = false;
        foreach (DataExporter pipeline in targets)
        {
            accepted |= pipeline.Add(exportableEvent);
        }

        return accepted;
    }

    /// <inheritdoc/>
    public Task FlushAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_all.Select(p => p.FlushAsync(cancellationToken)));

    /// <summary>Stops every pipeline, each writing what is left within its own deadline or until <paramref name="cancellationToken"/>.</summary>
    internal Task ShutdownAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_all.Select(p => p.ShutdownAsync(cancellationToken)));

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (DataExporter pipeline in _all)
        {
            await pipeline.DisposeAsync().ConfigureAwait(false);
        }
    }
}

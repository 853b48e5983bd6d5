using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>The ActivitySource names registered with <see cref="FeatureFlagEventsBuilderExtensions.AddFeatureFlagEvents"/>.</summary>
internal sealed class FeatureFlagEventsOptions
{
    /// <summary>The names or patterns (<c>*</c> any run of characters, <c>?</c> one), case-insensitive as OpenTelemetry's AddSource.</summary>
    public List<string> ActivitySourceNames { get; } = [];
}

/// <summary>
/// Listens to the configured ActivitySources while the host runs and adds a <see cref="FeatureEvent"/> to the
/// <see cref="IFlagEventSink"/> for each feature-flag evaluation event on their activities, when the activity stops.
/// </summary>
/// <remarks>
/// <para>Events are read at <see cref="ActivityListener.ActivityStopped"/>: an activity's events are complete only then,
/// and the listener never holds on to a running activity. An evaluation reaches the pipelines when the span it was
/// recorded on ends (a request's, usually), not when it happened; its <see cref="ExportableEvent.CreationDate"/> is the
/// event's own timestamp all the same.</para>
/// <para>The listener samples <see cref="ActivitySamplingResult.AllData"/>: activities of these sources are created and
/// filled with their tags and events, but the Recorded flag stays as the application's own samplers set it, so what
/// OpenTelemetry exports (and what the trace context tells other services) does not change.</para>
/// <para>It runs on the thread that stops the activity and must never throw there (an exception would surface in the
/// application's code): a failure is logged once and the evaluation is dropped.</para>
/// <para>Registered after FlagExport's own hosted service, so it starts once the pipelines run and stops before they
/// drain.</para>
/// </remarks>
internal sealed class FeatureFlagEventListener(IServiceProvider services, IOptions<FeatureFlagEventsOptions> options) : IHostedService, IDisposable
{
    private ActivityListener? _listener;
    private IFlagEventSink? _sink;
    private ILogger _logger = NullLogger.Instance;
    private int _failureLogged;

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _sink = services.GetRequiredService<IFlagEventSink>();
        _logger = (ILogger?)services.GetService<ILoggerFactory>()?.CreateLogger<FeatureFlagEventListener>() ?? NullLogger.Instance;
        string[] patterns = [.. options.Value.ActivitySourceNames];
        _listener = new ActivityListener
        {
            ShouldListenTo = source => Listens(patterns, source.Name),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            SampleUsingParentId = static (ref ActivityCreationOptions<string> _) => ActivitySamplingResult.AllData,
            ActivityStopped = OnActivityStopped,
        };
        ActivitySource.AddActivityListener(_listener);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            _logger.FeatureFlagEventsListening(string.Join(", ", patterns));
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Interlocked.Exchange(ref _listener, null)?.Dispose();
    }

    /// <summary>Whether <paramref name="sourceName"/> matches a pattern; FlagExport's own source never does (its activities hold no evaluations).</summary>
    internal static bool Listens(string[] patterns, string sourceName)
    {
        if (string.Equals(sourceName, ExportActivities.SourceName, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (string pattern in patterns)
        {
            if (Wildcard.Matches(pattern, sourceName))
            {
                return true;
            }
        }

        return false;
    }

    private void OnActivityStopped(Activity activity)
    {
        try
        {
            foreach (ref readonly ActivityEvent e in activity.EnumerateEvents())
            {
                if (FeatureFlagEvaluationEvent.IsEvaluation(e.Name) && FeatureFlagEvaluationEvent.ToFeatureEvent(e) is { } evaluation)
                {
                    _ = _sink!.Add(evaluation);
                }
            }
        }
#pragma warning disable CA1031 // On the application's thread: whatever goes wrong here must not reach its code.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            if (Interlocked.Exchange(ref _failureLogged, 1) == 0)
            {
                _logger.FeatureFlagEventFailed(exception, activity.Source.Name, activity.OperationName);
            }
        }
    }

    /// <summary>Case-insensitive matching with <c>*</c> and <c>?</c>, as OpenTelemetry's AddSource matches names.</summary>
    private static class Wildcard
    {
        internal static bool Matches(string pattern, string name)
        {
            int p = 0, n = 0, star = -1, resume = 0;
            while (n < name.Length)
            {
                if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(name[n])))
                {
                    p++;
                    n++;
                }
                else if (p < pattern.Length && pattern[p] == '*')
                {
                    star = p++;
                    resume = n;
                }
                else if (star >= 0)
                {
                    p = star + 1;
                    n = ++resume;
                }
                else
                {
                    return false;
                }
            }

            while (p < pattern.Length && pattern[p] == '*')
            {
                p++;
            }

            return p == pattern.Length;
        }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace FlagExport.FeatureManagement;

/// <summary>
/// Listens to Microsoft.FeatureManagement's <see cref="ActivitySource"/> and hands each published evaluation to the
/// sink. Microsoft.FeatureManagement starts an activity <c>FeatureEvaluation</c> only for flags with telemetry enabled
/// and only when a listener samples it, adds the <c>FeatureFlag</c> event only when the activity requests all data, and
/// calls <see cref="ActivityListener.ActivityStopped"/> synchronously at the end of the evaluation, letting any exception
/// out of <c>IsEnabledAsync</c>: hence <see cref="ActivitySamplingResult.AllData"/> and a callback that never throws.
/// </summary>
/// <remarks>
/// <see cref="ActivitySamplingResult.AllData"/> rather than <see cref="ActivitySamplingResult.AllDataAndRecorded"/>: the
/// activity keeps its parent's trace flags, so the application's own sampling decisions are not changed by it.
/// </remarks>
internal sealed class EvaluationListener : IDisposable
{
    /// <summary>The name of Microsoft.FeatureManagement's <see cref="ActivitySource"/>.</summary>
    internal const string SourceName = "Microsoft.FeatureManagement";

    /// <summary>The activity Microsoft.FeatureManagement starts around an evaluation.</summary>
    internal const string ActivityName = "FeatureEvaluation";

    private readonly IFlagEventSink _sink;
    private readonly EvaluationMapper _mapper;
    private readonly ILogger _logger;
    private readonly ActivityListener _listener;
    private long _failures;

    public EvaluationListener(IFlagEventSink sink, EvaluationMapper mapper, ILogger logger)
    {
        _sink = sink;
        _mapper = mapper;
        _logger = logger;
        _listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == SourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> options) => SampleEvaluation(options.Name),
            SampleUsingParentId = static (ref ActivityCreationOptions<string> options) => SampleEvaluation(options.Name),
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The evaluations that could not be handed to the sink because mapping or adding them threw.</summary>
    internal long Failures => Interlocked.Read(ref _failures);

    public void Dispose() => _listener.Dispose();

    private static ActivitySamplingResult SampleEvaluation(string name) =>
        name == ActivityName ? ActivitySamplingResult.AllData : ActivitySamplingResult.None;

    private void OnStopped(Activity activity)
    {
        try
        {
            if (activity.OperationName != ActivityName)
            {
                return;
            }

            foreach (ref readonly ActivityEvent evaluation in activity.EnumerateEvents())
            {
                if (evaluation.Name == EvaluationMapper.EventName)
                {
                    _ = _sink.Add(_mapper.Map(evaluation));
                }
            }
        }
#pragma warning disable CA1031 // Whatever went wrong, it must not reach the application's IsEnabledAsync.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Failed(exception);
        }
    }

    private void Failed(Exception exception)
    {
        long failures = Interlocked.Increment(ref _failures);
        try
        {
            if (failures == 1)
            {
                _logger.EvaluationNotExported(exception);
            }
            else
            {
                _logger.EvaluationNotExportedAgain(failures, exception);
            }
        }
#pragma warning disable CA1031 // A logger that throws must not reach the evaluation either.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}

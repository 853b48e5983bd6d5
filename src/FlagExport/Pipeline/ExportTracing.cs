using System.Diagnostics;

namespace FlagExport;

/// <summary>
/// The traces of one pipeline: an activity on <see cref="ExportActivities.Source"/> for each export attempt and one for
/// the replay of what its source held when the pipeline started (the durable log's backlog). Only the worker calls it.
/// </summary>
/// <remarks>
/// <para>An attempt's activity is ended before the flush callers waiting for its batch are completed, and a replay's
/// after the last attempt it covers: whoever awaited a flush finds them stopped.</para>
/// <para>The worker starts without the creator's ExecutionContext, so no activity of the code that created the pipeline
/// or called a flush becomes a parent; an attempt without a replay is the root of its own trace.</para>
/// </remarks>
internal sealed class ExportTracing
{
    private readonly string _name;
    private readonly string _exportDisplayName;

    // The replay: positions below _replayEnd were in the buffer at the start. 0 when there was nothing to replay or once done.
    private readonly long _replayRecords;
    private readonly DateTimeOffset _replayStartedUtc;
    private long _replayEnd;
    private bool _replayStartTried;
    private Activity? _replay;
    private long _replayEvents;
    private long _replayDeadLettered;
    private int _replayBatches;

    // The attempt in progress and its batch, while traced.
    private Activity? _exportActivity;
    private ExportBatch? _tracedBatch;

    /// <summary>Creates the tracing of the pipeline <paramref name="name"/>.</summary>
    /// <param name="name">The exporter's name, in display names and tags.</param>
    /// <param name="start">The first position the pipeline exports.</param>
    /// <param name="end">The source's end at the start: positions in between were held before the start, and their export is traced as one replay.</param>
    internal ExportTracing(string name, long start, long end)
    {
        _name = name;
        _exportDisplayName = $"export {name}";
        if (end > start)
        {
            // Its start is on the wall clock, as every activity's time is, not on the pipeline's TimeProvider.
            _replayEnd = end;
            _replayRecords = end - start;
            _replayStartedUtc = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>Starts the activity of an attempt at <paramref name="batch"/>, or does nothing when no listener samples it.</summary>
    internal void StartAttempt(ExportBatch batch, int count)
    {
        if (count == 0)
        {
            return;
        }

        ActivityContext parent = default;
        if (_replayEnd > 0)
        {
            StartReplay();
            parent = _replay?.Context ?? default;
        }

        if (!ExportActivities.Source.HasListeners())
        {
            return;
        }

        ClearAmbientActivity();
        Activity? activity = ExportActivities.Source.StartActivity(ExportActivities.ExportName, ActivityKind.Internal, parent);
        if (activity is null)
        {
            return;
        }

        activity.DisplayName = _exportDisplayName;
        if (activity.IsAllDataRequested)
        {
            _ = activity.SetTag(ExportActivities.ExporterTag, _name)
                .SetTag(ExportActivities.BatchIdTag, batch.Id)
                .SetTag(ExportActivities.AttemptTag, batch.Attempt)
                .SetTag(ExportActivities.EventsTag, count);
        }

        _exportActivity = activity;
        _tracedBatch = batch;
    }

    /// <summary>Ends the attempt's activity, if any, with its outcome.</summary>
    /// <param name="outcome">One of <see cref="ExportActivities.Written"/>, <see cref="ExportActivities.Failed"/>, <see cref="ExportActivities.DeadLettered"/>.</param>
    /// <param name="failure">Why the attempt failed, or null.</param>
    /// <param name="timedOut">Whether <see cref="DataExporterOptions.ExportTimeout"/> cancelled it.</param>
    /// <param name="deadLetter">Where the batch was set aside, or null.</param>
    internal void EndAttempt(string outcome, Exception? failure, bool timedOut, string? deadLetter)
    {
        Activity? activity = _exportActivity;
        ExportBatch? batch = _tracedBatch;
        if (activity is null || batch is null)
        {
            return;
        }

        _exportActivity = null;
        _tracedBatch = null;
        if (activity.IsAllDataRequested)
        {
            long bytes = 0;
            string[] destinations;
            lock (batch.Written)
            {
                destinations = batch.Written.Count == 0 ? [] : new string[batch.Written.Count];
                for (int i = 0; i < destinations.Length; i++)
                {
                    destinations[i] = batch.Written[i].Location;
                    bytes += batch.Written[i].ByteCount;
                }
            }

            _ = activity.SetTag(ExportActivities.BytesTag, bytes).SetTag(ExportActivities.OutcomeTag, outcome);
            if (destinations.Length > 0)
            {
                _ = activity.SetTag(ExportActivities.DestinationsTag, destinations);
            }

            if (deadLetter is not null)
            {
                _ = activity.SetTag(ExportActivities.DeadLetterTag, deadLetter);
            }

            if (failure is not null)
            {
                _ = activity.SetTag(ExportActivities.ErrorTypeTag, timedOut ? ExportActivities.TimeoutErrorType : failure.GetType().FullName)
                    .AddException(failure);
            }
        }

        if (failure is not null)
        {
            _ = activity.SetStatus(ActivityStatusCode.Error, activity.IsAllDataRequested ? ExportFailures.ReasonOf(failure) : null);
        }

        activity.Stop();
    }

    /// <summary>
    /// Starts the replay's activity at the first attempt of the replay, dated from the pipeline's start: by then the
    /// host has built its tracer provider, which a start in the constructor would race with. Only that first attempt
    /// decides: a listener that comes later sees the attempts, not a replay with part of the counts.
    /// </summary>
    private void StartReplay()
    {
        if (_replayStartTried)
        {
            return;
        }

        _replayStartTried = true;
        ClearAmbientActivity();
        Activity? replay = ExportActivities.Source.StartActivity(
            ExportActivities.ReplayName, ActivityKind.Internal, parentContext: default, tags: null, links: null, startTime: _replayStartedUtc);
        if (replay is null)
        {
            return;
        }

        // Not the ambient activity of the worker: its attempts name it as parent explicitly, nothing else belongs to it.
        Activity.Current = null;
        replay.DisplayName = $"replay {_name}";
        if (replay.IsAllDataRequested)
        {
            _ = replay.SetTag(ExportActivities.ExporterTag, _name).SetTag(ExportActivities.ReplayRecordsTag, _replayRecords);
        }

        _replay = replay;
    }

    /// <summary>Counts a batch that left the pipeline (written or set aside) and ends the replay once it reached its end.</summary>
    internal void OnReplayProgress(int count, long end, bool deadLettered)
    {
        if (_replayEnd == 0)
        {
            return;
        }

        if (count > 0)
        {
            _replayBatches++;
            if (deadLettered)
            {
                _replayDeadLettered += count;
            }
            else
            {
                _replayEvents += count;
            }
        }

        if (end >= _replayEnd)
        {
            EndReplay(ExportActivities.Completed, failure: null);
        }
    }

    /// <summary>Ends the replay, if one is pending, with its outcome.</summary>
    internal void EndReplay(string outcome, Exception? failure)
    {
        Activity? replay = _replay;
        _replay = null;
        _replayEnd = 0;
        if (replay is null)
        {
            return;
        }

        if (replay.IsAllDataRequested)
        {
            _ = replay.SetTag(ExportActivities.ReplayEventsTag, _replayEvents)
                .SetTag(ExportActivities.ReplayDeadLetteredTag, _replayDeadLettered)
                .SetTag(ExportActivities.ReplayBatchesTag, _replayBatches)
                .SetTag(ExportActivities.OutcomeTag, outcome);
        }

        if (failure is not null)
        {
            _ = replay.SetStatus(ActivityStatusCode.Error, failure.Message);
        }

        replay.Stop();
    }

    /// <summary>
    /// Makes sure an activity started with no explicit parent has none: the worker's flow has no ambient activity by
    /// construction, and this keeps it so should an exporter's continuation ever leak one into it.
    /// </summary>
    private static void ClearAmbientActivity()
    {
        if (Activity.Current is not null)
        {
            Activity.Current = null;
        }
    }
}

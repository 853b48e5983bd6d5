namespace FlagExport;

/// <summary>
/// Adds a group of events to the in-memory pipelines all or nothing: each event goes to every pipeline of its type, and
/// either every such pipeline keeps every event of the group, or none keeps any.
/// </summary>
/// <remarks>
/// <para>Room is reserved first, in every target pipeline, with the pipeline's own CAS on its sequence (so concurrent
/// groups and <c>Add</c> calls cannot together exceed a bound); the events are written only once every reservation
/// holds. When one pipeline refuses, the reservations already taken are given back as holes that the worker skips: a
/// refused group leaves no event behind. A check of every bound before reserving makes that path rare.</para>
/// <para>Unlike <c>Add</c>, a full buffer refuses the whole group and counts no drop: the caller (a collector request)
/// answers so that its client sends the events again.</para>
/// </remarks>
internal sealed class EventAdmission : IEventIntake
{
    /// <summary>Up to this many target pipelines, the reservations are kept on the stack.</summary>
    private const int StackTargets = 16;

    private readonly DataExporter[] _targets; // the feature pipelines, then the tracking pipelines
    private readonly int _featureTargets;

    /// <summary>The answer to a request when target <c>k</c> has no room for a single event: built once, not per refusal.</summary>
    private readonly string[] _noRoom;

    private const string StoppingRefusal = "The collector is stopping; nothing was accepted, send the events again later.";

    /// <summary>Creates the admission for the pipelines of each event type.</summary>
    internal EventAdmission(DataExporter[] feature, DataExporter[] tracking)
    {
        _targets = [.. feature, .. tracking];
        _featureTargets = feature.Length;
        _noRoom = [.. _targets.Select(static pipeline =>
            $"The buffer of exporter '{pipeline.Name}' has no room for more events (maxBufferedEvents = {pipeline.MaxBuffered}); nothing was accepted, send the events again later.")];
    }

    /// <inheritdoc/>
    /// <remarks>Never waits: the events are in memory once added.</remarks>
    public ValueTask<EventIntakeResult> AcceptAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        EventAdmissionResult result = TryAddAll(events);
        if (result.IsAdded)
        {
            return ValueTask.FromResult(EventIntakeResult.Kept(result.Added, result.NotExported));
        }

        DataExporter pipeline = result.RefusedBy!;
        return ValueTask.FromResult(result.Outcome switch
        {
            ReserveOutcome.NeverFits => EventIntakeResult.Refused(EventIntakeOutcome.TooLarge,
                $"The request holds {result.RefusedCount} {pipeline.EventType.ToString().ToLowerInvariant()} events, more than exporter '{pipeline.Name}' ever buffers (maxBufferedEvents = {pipeline.MaxBuffered}); nothing was accepted, send them in smaller requests."),
            ReserveOutcome.Stopped => EventIntakeResult.Refused(EventIntakeOutcome.Full, StoppingRefusal),
            _ => EventIntakeResult.Refused(EventIntakeOutcome.Full,
                $"The buffer of exporter '{pipeline.Name}' has no room for {result.RefusedCount} more events (maxBufferedEvents = {pipeline.MaxBuffered}); nothing was accepted, send the events again later."),
        });
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Refuses only when every event type that has pipelines has one without room for a single event (as
    /// <see cref="DataExporter.Probe"/> says, reserving nothing): then any request with an event a pipeline takes would be refused
    /// whole. A request whose events no pipeline takes (or that has none, or is malformed) gets the same 503 meanwhile,
    /// which its retry cures; a request of a type whose pipelines all have room is never refused here.
    /// </remarks>
    public string? NoRoomRefusal()
    {
        int fullFeature = FirstFull(0, _featureTargets);
        if (_featureTargets > 0 && fullFeature < 0)
        {
            return null;
        }

        int fullTracking = FirstFull(_featureTargets, _targets.Length);
        if (_targets.Length > _featureTargets && fullTracking < 0)
        {
            return null;
        }

        int full = fullFeature >= 0 ? fullFeature : fullTracking;
        if (full < 0)
        {
            return null; // no pipeline at all: nothing is kept, and nothing is refused for lack of room
        }

        return _targets[full].Probe(1) == ReserveOutcome.Stopped ? StoppingRefusal : _noRoom[full];
    }

    /// <summary>The first target in [<paramref name="from"/>, <paramref name="to"/>) with no room for one event, or -1.</summary>
    private int FirstFull(int from, int to)
    {
        for (int k = from; k < to; k++)
        {
            if (_targets[k].Probe(1) != ReserveOutcome.Reserved)
            {
                return k;
            }
        }

        return -1;
    }

    /// <summary>Adds every event of <paramref name="events"/> that a pipeline takes, or none of them.</summary>
    internal EventAdmissionResult TryAddAll(IReadOnlyList<ExportableEvent> events)
    {
        int featureCount = 0;
        for (int i = 0; i < events.Count; i++)
        {
            if (events[i].EventType == EventType.Feature)
            {
                featureCount++;
            }
        }

        int trackingCount = events.Count - featureCount;
        bool featureTaken = _featureTargets > 0;
        bool trackingTaken = _targets.Length > _featureTargets;
        int notExported = (featureTaken ? 0 : featureCount) + (trackingTaken ? 0 : trackingCount);

        // Checked before anything is reserved: a group that can never fit is told so, not asked to come back.
        for (int k = 0; k < _targets.Length; k++)
        {
            int count = CountFor(k, featureCount, trackingCount);
            if (count > _targets[k].MaxBuffered)
            {
                return EventAdmissionResult.Refused(ReserveOutcome.NeverFits, _targets[k], count);
            }
        }

        for (int k = 0; k < _targets.Length; k++)
        {
            int count = CountFor(k, featureCount, trackingCount);
            ReserveOutcome probe = count > 0 ? _targets[k].Probe(count) : ReserveOutcome.Reserved;
            if (probe != ReserveOutcome.Reserved)
            {
                return EventAdmissionResult.Refused(probe, _targets[k], count);
            }
        }

        Span<long> starts = _targets.Length <= StackTargets ? stackalloc long[StackTargets] : new long[_targets.Length];
        for (int k = 0; k < _targets.Length; k++)
        {
            int count = CountFor(k, featureCount, trackingCount);
            if (count == 0)
            {
                continue;
            }

            ReserveOutcome outcome = _targets[k].TryReserve(count, out starts[k]);
            if (outcome != ReserveOutcome.Reserved)
            {
                for (int j = 0; j < k; j++)
                {
                    int taken = CountFor(j, featureCount, trackingCount);
                    if (taken > 0)
                    {
                        _targets[j].Release(starts[j], taken);
                    }
                }

                return EventAdmissionResult.Refused(outcome, _targets[k], count);
            }
        }

        for (int k = 0; k < _targets.Length; k++)
        {
            EventType type = k < _featureTargets ? EventType.Feature : EventType.Tracking;
            int count = CountFor(k, featureCount, trackingCount);
            if (count == 0)
            {
                continue;
            }

            DataExporter pipeline = _targets[k];
            long next = starts[k];
            for (int i = 0; i < events.Count; i++)
            {
                ExportableEvent item = events[i];
                if (item.EventType == type)
                {
                    pipeline.WriteReserved(next++, item);
                }
            }

            pipeline.Published(next);
        }

        return EventAdmissionResult.Accepted(events.Count - notExported, notExported);
    }

    private int CountFor(int target, int featureCount, int trackingCount) =>
        target < _featureTargets ? featureCount : trackingCount;
}

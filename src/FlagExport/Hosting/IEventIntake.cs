namespace FlagExport;

/// <summary>
/// The collector's way in: keeps a request's events all or nothing and says why when it cannot, whatever holds them
/// (the exporters' memory, <see cref="EventAdmission"/>, or the durable buffer, <see cref="Durability.DurableAppender"/>).
/// </summary>
/// <remarks>An accepted answer means the events are kept as the mode promises: in every pipeline of their type, or on disk.</remarks>
internal interface IEventIntake
{
    /// <summary>Keeps every event of <paramref name="events"/> that an exporter takes, or none of them.</summary>
    /// <param name="events">The events of one request.</param>
    /// <param name="cancellationToken">Stops waiting for the disk (the request was aborted): then nothing is acknowledged.</param>
    ValueTask<EventIntakeResult> AcceptAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="AcceptAsync(IReadOnlyList{ExportableEvent}, CancellationToken)"/>, and keeps <paramref name="key"/>
    /// with the events, all or nothing: on disk in the same group commit in durable mode (its event count set to the
    /// events kept); memory mode has nothing to keep beyond the caller's index.
    /// </summary>
    ValueTask<EventIntakeResult> AcceptAsync(IReadOnlyList<ExportableEvent> events, Durability.IdempotencyRecord? key, CancellationToken cancellationToken) =>
        AcceptAsync(events, cancellationToken);

    /// <summary>
    /// Asked before a request's body is read, reserving nothing: the refusal (<see cref="EventIntakeOutcome.Full"/>) that
    /// <see cref="AcceptAsync(IReadOnlyList{ExportableEvent}, CancellationToken)"/> would give now to any request with an event an exporter takes, or null when a request
    /// may be kept. Lets a refusal skip the parse; a request that gets null is still refused by <see cref="AcceptAsync(IReadOnlyList{ExportableEvent}, CancellationToken)"/>
    /// when it does not fit.
    /// </summary>
    /// <remarks>Cheap (reads counters only) and allocates nothing. The default never refuses early.</remarks>
    string? NoRoomRefusal() => null;
}

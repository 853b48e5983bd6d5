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
}

namespace FlagExport;

/// <summary>The answer of <see cref="IEventIntake.AcceptAsync(IReadOnlyList{ExportableEvent}, CancellationToken)"/>.</summary>
/// <param name="Outcome">Whether the events were kept, or why none was.</param>
/// <param name="Accepted">How many events were kept (each for every exporter of its type).</param>
/// <param name="NotExported">How many events no exporter takes (their type has none): never kept.</param>
/// <param name="Refusal">Why nothing was kept, for the client: names the limit and what to do; null when accepted.</param>
/// <param name="Failure">The error of a <see cref="EventIntakeOutcome.Failed"/> outcome.</param>
internal readonly record struct EventIntakeResult(EventIntakeOutcome Outcome, int Accepted, int NotExported, string? Refusal, Exception? Failure)
{
    internal static EventIntakeResult Kept(int accepted, int notExported) => new(EventIntakeOutcome.Accepted, accepted, notExported, null, null);

    internal static EventIntakeResult Refused(EventIntakeOutcome outcome, string refusal, Exception? failure = null) => new(outcome, 0, 0, refusal, failure);
}

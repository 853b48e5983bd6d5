namespace FlagExport;

/// <summary>What <see cref="EventAdmission.TryAddAll"/> did with a group of events.</summary>
/// <param name="Outcome"><see cref="ReserveOutcome.Reserved"/> when the events were added; otherwise why none was.</param>
/// <param name="Added">How many events were added (each to every pipeline of its type).</param>
/// <param name="NotExported">How many events no pipeline takes (their type has none); not added, whatever the outcome.</param>
/// <param name="RefusedBy">The pipeline that refused, when one did.</param>
/// <param name="RefusedCount">How many events of the group that pipeline was asked to take.</param>
internal readonly record struct EventAdmissionResult(ReserveOutcome Outcome, int Added, int NotExported, DataExporter? RefusedBy, int RefusedCount)
{
    /// <summary>Whether the events were added.</summary>
    internal bool IsAdded => Outcome == ReserveOutcome.Reserved;

    internal static EventAdmissionResult Accepted(int added, int notExported) => new(ReserveOutcome.Reserved, added, notExported, null, 0);

    internal static EventAdmissionResult Refused(ReserveOutcome outcome, DataExporter pipeline, int count) => new(outcome, 0, 0, pipeline, count);
}

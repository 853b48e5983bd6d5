namespace FlagExport;

/// <summary>What <see cref="IEventIntake.AcceptAsync(IReadOnlyList{ExportableEvent}, CancellationToken)"/> did with a request's events.</summary>
internal enum EventIntakeOutcome
{
    /// <summary>Every event an exporter takes is kept.</summary>
    Accepted,

    /// <summary>No room now (or stopping): nothing kept; the same request can succeed later.</summary>
    Full,

    /// <summary>Larger than the buffer can ever take: nothing kept; only smaller requests can succeed.</summary>
    TooLarge,

    /// <summary>The buffer could not keep them (the disk refused the write): nothing kept; a later try may succeed.</summary>
    Failed,
}

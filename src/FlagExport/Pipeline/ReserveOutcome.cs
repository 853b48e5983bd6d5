namespace FlagExport;

/// <summary>What a reservation of positions did (<see cref="BoundedReservation.TryReserve"/>, <see cref="RingBatchSource.TryReserve"/>).</summary>
internal enum ReserveOutcome
{
    /// <summary>The numbers are reserved.</summary>
    Reserved,

    /// <summary>The buffer has no room for that many events now; it may later.</summary>
    Full,

    /// <summary>More events than the buffer ever holds (<see cref="DataExporterOptions.MaxBufferedEvents"/>).</summary>
    NeverFits,

    /// <summary>The pipeline stopped accepting events.</summary>
    Stopped,
}

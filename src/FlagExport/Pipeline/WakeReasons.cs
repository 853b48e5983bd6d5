namespace FlagExport;

/// <summary>Why the export worker was woken (<see cref="WorkerSignal.Wake"/>); several can be pending at once.</summary>
internal static class WakeReasons
{
    internal const int Interval = 1;
    internal const int Size = 2;
    internal const int Flush = 4;
    internal const int Retry = 8;
    internal const int BufferFull = 16;
    internal const int Shutdown = 32;

    /// <summary>The reasons that start an export.</summary>
    internal const int Export = Interval | Size | Flush | Retry;

    /// <summary>The reasons that export everything buffered, not only full batches.</summary>
    internal const int Drain = Interval | Retry;
}

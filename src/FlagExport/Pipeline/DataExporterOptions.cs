namespace FlagExport;

/// <summary>
/// Options of one export pipeline (a <see cref="DataExporter"/>, or a registered exporter's pipeline reading the durable
/// buffer): when it flushes, how much it buffers, and how long it waits for an export and for the final flush.
/// </summary>
/// <remarks>
/// With the hosting extensions these options are bound from the configuration section
/// <c>FlagExport:Exporters:&lt;name&gt;</c> and validated when the host starts. Invalid values are never clamped:
/// they fail with a message that names the option and the value.
/// </remarks>
public sealed class DataExporterOptions
{
    internal static readonly TimeSpan DefaultFlushInterval = TimeSpan.FromSeconds(60);
    internal const int DefaultMaxEventInMemory = 100_000;
    // Three batches: one being written, one failed and waiting for its retry, one filling. The bound is what a pipeline
    // holds whenever its store is slower than its intake: 225 B per event (docs/benchmarks/hot-paths.md).
    internal const int DefaultBufferFactor = 3;
    internal static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan DefaultExportTimeout = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan DefaultMaxRetryDuration = TimeSpan.FromHours(24);

    /// <summary>
    /// How often buffered events are exported, even when fewer than <see cref="MaxEventInMemory"/> are waiting.
    /// The interval is periodic, counted from the start of the pipeline.
    /// </summary>
    /// <value>The default value is 60 seconds. Must be between 1 millisecond and 1 day; in configuration write it
    /// <c>hh:mm:ss</c> (a bare number such as <c>10</c> would mean days and is refused).</value>
    public TimeSpan FlushInterval { get; set; } = DefaultFlushInterval;

    /// <summary>
    /// How many waiting events trigger an export at once, and the largest batch handed to the exporter in one call.
    /// </summary>
    /// <value>The default value is 100,000. Must be between 1 and 10,000,000.</value>
    public int MaxEventInMemory { get; set; } = DefaultMaxEventInMemory;

    /// <summary>
    /// The most bytes one batch may take encoded, counted as an upper bound computed from each event's fields (the
    /// JSON lines encoding with every character at its longest escape, shared metadata counted in each event). A batch
    /// is cut at <see cref="MaxEventInMemory"/> events or at this bound, whichever comes first; one event larger than
    /// the bound is a batch on its own.
    /// </summary>
    /// <value>
    /// The default value is 256 MiB, which keeps every encoding of a batch (JSON lines, CSV, Parquet, then compressed)
    /// far below the 2 GiB an encoder's buffer can hold, and its memory about one batch. Events of a few hundred bytes
    /// reach <see cref="MaxEventInMemory"/> first. Must be between 1 MiB and 1 GiB.
    /// </value>
    public long MaxBatchEncodedBytes { get; set; } = DefaultMaxBatchEncodedBytes;

    internal const long DefaultMaxBatchEncodedBytes = 256L * 1024 * 1024;

    /// <summary>Which events this pipeline exports; events of the other type are ignored.</summary>
    /// <value>The default value is <see cref="FlagExport.EventType.Feature"/>.</value>
    public EventType EventType { get; set; } = EventType.Feature;

    /// <summary>
    /// The hard bound on events held in memory, including a batch that failed and waits for its retry.
    /// When the buffer holds this many events, new events are dropped (the buffered ones are kept), counted, and one
    /// warning is logged until the buffer has room again. With the durable buffer on, the largest bound among the exporters
    /// of a type bounds the events of that type added and waiting in memory for the disk.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>, which means 3 × <see cref="MaxEventInMemory"/> (300,000 events,
    /// about 70 MB, with the defaults). To ride out a longer outage of the destination, use the durable buffer rather than
    /// a larger bound.
    /// When set, must be at least <see cref="MaxEventInMemory"/> and at most 100,000,000.
    /// </value>
    public int? MaxBufferedEvents { get; set; }

    /// <summary>
    /// How long disposal or host shutdown may spend writing the events still buffered (retrying failed exports with
    /// backoff meanwhile). Events not written by then are logged as an error and counted in <c>flagexport.events.dropped</c> (reason
    /// <c>shutdown</c>); with the durable
    /// buffer on they stay in the buffer for the next start, and the largest timeout among the exporters bounds how long
    /// added events still waiting in memory are appended to the buffer.
    /// </summary>
    /// <value>The default value is 30 seconds. Must be greater than zero and at most 49 days.</value>
    public TimeSpan ShutdownTimeout { get; set; } = DefaultShutdownTimeout;

    /// <summary>
    /// How long one call to <see cref="IExporter.ExportAsync"/> may run before its cancellation token is cancelled.
    /// A cancelled export counts as a failed one: the batch is kept and retried. The pipeline waits for an exporter that
    /// ignores its token (one export at a time, never two), except at the shutdown deadline, where it stops waiting.
    /// </summary>
    /// <value>The default value is 30 seconds. Must be greater than zero and at most 49 days.</value>
    public TimeSpan ExportTimeout { get; set; } = DefaultExportTimeout;

    /// <summary>
    /// How long a batch that keeps failing is retried, counted from its first failure. After that, and at once for a
    /// failure the exporter marks as permanent (<see cref="IExportFailure.IsPermanent"/>), the batch is written to the
    /// dead-letter folder (<see cref="DeadLetterDirectory"/>) and the pipeline moves on to the next batch.
    /// </summary>
    /// <value>The default value is 24 hours. Must be greater than zero and at most 49 days.</value>
    public TimeSpan MaxRetryDuration { get; set; } = DefaultMaxRetryDuration;

    /// <summary>
    /// The folder dead letters are written to: each is the batch encoded as the exporter would have written it (JSON
    /// lines) plus a manifest naming the exporter, the error, the event count and the times.
    /// </summary>
    /// <value>The default value is <c>./dead-letter</c>, relative to the working directory. Must not be empty.</value>
    public string DeadLetterDirectory { get; set; } = DefaultDeadLetterDirectory;

    internal const string DefaultDeadLetterDirectory = "./dead-letter";

    /// <summary>The effective bound on buffered events: <see cref="MaxBufferedEvents"/> or its default.</summary>
    internal long EffectiveMaxBufferedEvents => MaxBufferedEvents ?? (long)MaxEventInMemory * DefaultBufferFactor;
}

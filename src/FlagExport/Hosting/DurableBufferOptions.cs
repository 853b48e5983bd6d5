namespace FlagExport;

/// <summary>
/// The durable buffer (opt-in in the library; the collector's default): a write-ahead log on local disk shared by every
/// exporter pipeline of the process, so that events survive a crash, an OOM kill or a redeploy during an outage of the
/// destination.
/// </summary>
/// <remarks>
/// Bound from the configuration section <c>FlagExport</c> (<c>FlagExport:BufferDirectory</c>,
/// <c>FlagExport:MaxBufferBytes</c>) or set with <see cref="FlagExportBuilder.UseDurableBuffer"/>. Without
/// <see cref="BufferDirectory"/> (or with it empty or <c>none</c>) events are buffered in memory only.
/// </remarks>
public sealed class DurableBufferOptions
{
    internal const long DefaultMaxBufferBytes = 10L * 1024 * 1024 * 1024;
    internal const long MinMaxBufferBytes = 1024 * 1024;

    /// <summary>
    /// The folder of the durable buffer, created if missing. Give each process its own: two processes must not share one
    /// (the second to open it fails, naming the folder). <see langword="null"/>, empty or <c>none</c> (any case) turns the
    /// buffer off: configuration can thus override a default folder with memory mode (a folder named <c>none</c> is
    /// written <c>./none</c>).
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no durable buffer, events are held in memory.</value>
    public string? BufferDirectory { get; set; }

    /// <summary>
    /// The most bytes the buffer holds on disk. When it is full, the collector answers 503 with <c>Retry-After</c> (413
    /// for a request larger than the whole buffer, which could never fit), and <see cref="IFlagEventSink.Add"/> keeps
    /// events in memory, dropping and counting them once that is full too.
    /// </summary>
    /// <value>The default value is 10 GiB. Must be at least 1 MiB.</value>
    public long MaxBufferBytes { get; set; } = DefaultMaxBufferBytes;

    /// <summary>The value of <see cref="BufferDirectory"/> that chooses memory mode as explicitly as an empty one.</summary>
    internal const string MemoryMode = "none";

    /// <summary>Whether the durable buffer is on.</summary>
    internal bool Enabled => !string.IsNullOrWhiteSpace(BufferDirectory) && !string.Equals(BufferDirectory, MemoryMode, StringComparison.OrdinalIgnoreCase);
}

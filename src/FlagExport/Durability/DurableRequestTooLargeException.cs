namespace FlagExport.Durability;

/// <summary>
/// One append call holds more bytes than the durable buffer can ever take at once: it can never be kept, however long
/// the caller waits (the collector answers 413; the library's appender drops such an event and counts it).
/// </summary>
internal sealed class DurableRequestTooLargeException(string directory, long maxBytes, long limit, long bytes)
    : InvalidOperationException($"The events take {bytes} bytes in the durable buffer '{directory}', more than one append can ever take: at most {limit} bytes, MaxBufferBytes ({maxBytes}) less the segment being written, which stays on disk; send them in smaller requests or raise MaxBufferBytes.")
{
    /// <summary>The capacity of the buffer.</summary>
    public long MaxBytes { get; } = maxBytes;

    /// <summary>The most bytes one append call can take (<see cref="DurableEventStore.MaxAppendBytes"/>).</summary>
    public long Limit { get; } = limit;

    /// <summary>The bytes the events take.</summary>
    public long Bytes { get; } = bytes;
}

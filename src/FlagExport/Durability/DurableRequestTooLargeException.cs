namespace FlagExport.Durability;

/// <summary>
/// One append call holds more bytes than the whole durable buffer: it can never be kept, however long the caller waits.
/// </summary>
internal sealed class DurableRequestTooLargeException(string directory, long maxBytes, long bytes)
    : InvalidOperationException($"The events take {bytes} bytes in the durable buffer '{directory}', more than it can ever hold (MaxBufferBytes = {maxBytes}); send them in smaller requests or raise MaxBufferBytes.")
{
    /// <summary>The capacity of the buffer.</summary>
    public long MaxBytes { get; } = maxBytes;

    /// <summary>The bytes the events take.</summary>
    public long Bytes { get; } = bytes;
}

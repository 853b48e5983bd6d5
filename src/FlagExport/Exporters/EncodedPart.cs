namespace FlagExport;

/// <summary>
/// One file or object of a batch, as <see cref="BatchEncoding.EncodePartsAsync"/> cuts it: its events, its encoded
/// (and compressed) bytes and its place in the batch.
/// </summary>
/// <remarks>Owns <see cref="Content"/>: dispose the part to return the buffer to the pool.</remarks>
public sealed class EncodedPart : IDisposable
{
    internal EncodedPart(int index, IReadOnlyList<ExportableEvent> events, PooledBufferWriter content)
    {
        Index = index;
        Events = events;
        Content = content;
    }

    /// <summary>The part's place in the batch, from 0: part 0 is named as a batch of one part is.</summary>
    public int Index { get; }

    /// <summary>The part's events: consecutive events of the batch, in order, viewed without copying.</summary>
    public IReadOnlyList<ExportableEvent> Events { get; }

    /// <summary>The bytes to write.</summary>
    public PooledBufferWriter Content { get; }

    /// <summary>Returns <see cref="Content"/> to the pool.</summary>
    public void Dispose() => Content.Dispose();
}

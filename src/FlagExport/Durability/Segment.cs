namespace FlagExport.Durability;

/// <summary>
/// One segment file of a <see cref="SegmentLog"/> as readers see it: how much of it is durable and whether it is closed.
/// </summary>
/// <remarks>
/// Only the flusher changes a segment, and only forward. It writes <see cref="DurableLength"/> before <see cref="IsSealed"/>,
/// so a reader that sees the segment sealed and then reads the length gets the final length.
/// </remarks>
internal sealed class Segment
{
    private long _durableLength;
    private long _durableEndPosition;
    private volatile bool _sealed;

    public Segment(string path, long firstPosition, long durableLength, long durableEndPosition, bool isSealed)
    {
        Path = path;
        FirstPosition = firstPosition;
        _durableLength = durableLength;
        _durableEndPosition = durableEndPosition;
        _sealed = isSealed;
    }

    /// <summary>The segment file.</summary>
    public string Path { get; }

    /// <summary>Position of the segment's first record.</summary>
    public long FirstPosition { get; }

    /// <summary>Bytes of the file (header included) that are written and fsynced; always a record boundary.</summary>
    public long DurableLength => Volatile.Read(ref _durableLength);

    /// <summary>Position after the segment's last durable record.</summary>
    public long DurableEndPosition => Volatile.Read(ref _durableEndPosition);

    /// <summary>True once no record will be added: <see cref="DurableLength"/> is final.</summary>
    public bool IsSealed => _sealed;

    /// <summary>Publishes bytes and records that the flusher has fsynced.</summary>
    public void Publish(long durableLength, long durableEndPosition)
    {
        Volatile.Write(ref _durableEndPosition, durableEndPosition);
        Volatile.Write(ref _durableLength, durableLength);
    }

    /// <summary>Marks the segment complete; call after the last <see cref="Publish"/>.</summary>
    public void Seal() => _sealed = true;
}

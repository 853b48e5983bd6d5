using System.Buffers.Binary;

namespace FlagExport.Durability;

/// <summary>
/// A file of events in the durable buffer's event encoding (<see cref="EventRecordCodec"/>): for each record a 4-byte
/// little-endian payload length, the tag, the payload. Dead letters keep their exact events this way.
/// </summary>
/// <remarks>
/// As in the log, metadata shared by consecutive feature events is a metadata record written once before them, and
/// their records refer to it, so a file holds a request's metadata once, not once per event.
/// </remarks>
internal static class EventRecordFile
{
    private const int HeaderBytes = 5;

    // The buffer is written out whenever it holds this much: memory stays this size whatever the batch.
    private const int FlushBytes = 1 << 20;

    /// <summary>Writes <paramref name="events"/> to <paramref name="output"/> as they are encoded.</summary>
    /// <exception cref="ArgumentException">A value nests deeper than the codec allows.</exception>
    public static async Task WriteAsync(IReadOnlyList<ExportableEvent> events, Stream output, CancellationToken cancellationToken)
    {
        using var buffer = new PooledBufferWriter(FlushBytes + (64 * 1024));
        using var payload = new PooledBufferWriter();
        FlagObject? shared = null;
        for (int i = 0; i < events.Count; i++)
        {
            ExportableEvent e = events[i];
            FlagObject? metadata = (e as FeatureEvent)?.MetadataObject;
            if (metadata is { Count: > 0 } && !ReferenceEquals(metadata, shared)
                && i + 1 < events.Count && events[i + 1] is FeatureEvent next && ReferenceEquals(next.MetadataObject, metadata))
            {
                AppendRecord(buffer, payload, EventRecordCodec.MetadataTag, metadata, e, sharedMetadata: false);
                shared = metadata;
            }

            AppendRecord(buffer, payload, EventRecordCodec.TagOf(e), null, e, sharedMetadata: metadata is not null && ReferenceEquals(metadata, shared));
            if (buffer.WrittenCount >= FlushBytes)
            {
                await output.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
                buffer.Clear();
            }
        }

        await output.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads every event of <paramref name="content"/>; events that share metadata share one object.</summary>
    /// <exception cref="InvalidDataException">The content is truncated or holds a record that does not decode.</exception>
    public static List<ExportableEvent> Read(ReadOnlySpan<byte> content)
    {
        var events = new List<ExportableEvent>();
        FlagObject? shared = null;
        while (!content.IsEmpty)
        {
            if (content.Length < HeaderBytes)
            {
                throw new InvalidDataException($"The event file ends inside a record header ({content.Length} bytes left).");
            }

            int length = BinaryPrimitives.ReadInt32LittleEndian(content);
            if (length < 0 || length > content.Length - HeaderBytes)
            {
                throw new InvalidDataException($"An event record claims {length} bytes; {content.Length - HeaderBytes} are left.");
            }

            ReadOnlySpan<byte> payload = content.Slice(HeaderBytes, length);
            if (content[4] == EventRecordCodec.MetadataTag)
            {
                shared = EventRecordCodec.ReadMetadata(payload);
            }
            else
            {
                events.Add(EventRecordCodec.Read(content[4], payload, shared));
            }

            content = content[(HeaderBytes + length)..];
        }

        return events;
    }

    /// <summary>Appends one record: the metadata record of <paramref name="metadata"/> when given, else <paramref name="e"/>'s.</summary>
    private static void AppendRecord(PooledBufferWriter buffer, PooledBufferWriter payload, byte tag, FlagObject? metadata, ExportableEvent e, bool sharedMetadata)
    {
        payload.Clear();
        if (metadata is not null)
        {
            EventRecordCodec.WriteMetadata(metadata, payload);
        }
        else
        {
            EventRecordCodec.Write(e, payload, sharedMetadata);
        }

        Span<byte> header = buffer.GetSpan(HeaderBytes);
        BinaryPrimitives.WriteInt32LittleEndian(header, payload.WrittenCount);
        header[4] = tag;
        buffer.Advance(HeaderBytes);
        buffer.Write(payload.WrittenSpan);
    }
}

using System.Buffers;
using System.Buffers.Binary;

namespace FlagExport.Durability;

/// <summary>
/// A file of events in the durable buffer's event encoding (<see cref="EventRecordCodec"/>): for each event a 4-byte
/// little-endian payload length, the tag, the payload. Dead letters keep their exact events this way.
/// </summary>
internal static class EventRecordFile
{
    /// <summary>Appends <paramref name="events"/> to <paramref name="output"/>.</summary>
    public static void Write(IReadOnlyList<ExportableEvent> events, IBufferWriter<byte> output)
    {
        var payload = new ArrayBufferWriter<byte>(1024);
        foreach (ExportableEvent exportable in events)
        {
            payload.ResetWrittenCount();
            EventRecordCodec.Write(exportable, payload);
            Span<byte> header = output.GetSpan(5);
            BinaryPrimitives.WriteInt32LittleEndian(header, payload.WrittenCount);
            header[4] = EventRecordCodec.TagOf(exportable);
            output.Advance(5);
            output.Write(payload.WrittenSpan);
        }
    }

    /// <summary>Reads every event of <paramref name="content"/>.</summary>
    /// <exception cref="InvalidDataException">The content is truncated or holds an event that does not decode.</exception>
    public static List<ExportableEvent> Read(ReadOnlySpan<byte> content)
    {
        var events = new List<ExportableEvent>();
        while (!content.IsEmpty)
        {
            if (content.Length < 5)
            {
                throw new InvalidDataException($"The event file ends inside a record header ({content.Length} bytes left).");
            }

            int length = BinaryPrimitives.ReadInt32LittleEndian(content);
            if (length < 0 || length > content.Length - 5)
            {
                throw new InvalidDataException($"An event record claims {length} bytes; {content.Length - 5} are left.");
            }

            events.Add(EventRecordCodec.Read(content[4], content.Slice(5, length)));
            content = content[(5 + length)..];
        }

        return events;
    }
}

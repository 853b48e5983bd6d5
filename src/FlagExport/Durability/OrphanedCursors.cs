namespace FlagExport.Durability;

/// <summary>
/// Cursors of exporters that are no longer registered (removed, or renamed: the name is the cursor's identity), and
/// the events they still owe: those of their type from their committed position to the end of the log, their batch in
/// flight included.
/// </summary>
/// <remarks>
/// Such a backlog was acknowledged to clients and must reach someone: it is either exported by the exporter put back
/// under its name, or set aside as dead letters (<see cref="DurableBufferBacklog.DropAsync"/>). Until then its cursor
/// counts like any other, so no segment it needs is deleted.
/// </remarks>
internal static class OrphanedCursors
{
    /// <summary>The cursor files in <paramref name="cursorDirectory"/> that are none of <paramref name="open"/>, by file name.</summary>
    public static IEnumerable<ExporterCursor> Find(string cursorDirectory, IEnumerable<ExporterCursor> open)
    {
        if (!Directory.Exists(cursorDirectory))
        {
            yield break;
        }

        var opened = new HashSet<string>(open.Select(c => Path.GetFileName(c.FilePath)), StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(cursorDirectory).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(file);
            if (ExporterCursor.IsCursorFile(name) && !opened.Contains(name))
            {
                yield return ExporterCursor.Read(file);
            }
        }
    }

    /// <summary>
    /// The exporter name of <paramref name="cursor"/>: the one saved in the file, or, for a file that does not say, the
    /// readable part of its file name.
    /// </summary>
    public static string NameOf(ExporterCursor cursor)
    {
        if (cursor.ExporterName is { } name)
        {
            return name;
        }

        string file = Path.GetFileName(cursor.FilePath);
        int hash = file.LastIndexOf('.', file.Length - ".cursor".Length - 1);
        return hash > 0 ? file[..hash] : file;
    }

    /// <summary>How many events of the cursor's type (of either type, when it does not say; metadata and key records are not events) lie between its committed position and the log's durable end.</summary>
    public static long Backlog(SegmentLog log, ExporterCursor cursor)
    {
        byte? tag = cursor.EventType switch
        {
            EventType.Tracking => EventRecordCodec.TrackingTag,
            EventType.Feature => EventRecordCodec.FeatureTag,
            _ => null,
        };
        long end = log.DurablePosition;
        long count = 0;
        using SegmentLogReader reader = log.OpenReader(cursor.Committed);
        while (reader.NextPosition < end && reader.TryRead(out long position, out byte recordTag, out _) && position < end)
        {
            if (tag is null ? recordTag is EventRecordCodec.FeatureTag or EventRecordCodec.TrackingTag : recordTag == tag)
            {
                count++;
            }
        }

        return count;
    }
}

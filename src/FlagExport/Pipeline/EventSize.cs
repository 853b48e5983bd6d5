using FlagExport.Formats;

namespace FlagExport;

/// <summary>
/// An upper bound of the bytes an event takes in go-feature-flag's JSON lines, from its fields without encoding it:
/// what a batch is cut by (<see cref="DataExporterOptions.MaxBatchEncodedBytes"/>).
/// </summary>
/// <remarks>
/// It is the room the JSON lines encoder reserves for the line (<see cref="JsonLinesEncoder.MaxLineBytes"/>): every
/// character at its longest escape, so it holds whatever the text; a metadata object's bound is computed once and kept
/// on the object, which a request's events share, so it costs a few additions per event. It depends on the event alone:
/// a batch cut again after a restart is cut at the same place.
/// </remarks>
internal static class EventSize
{
    /// <summary>The bound for <paramref name="e"/>, in bytes.</summary>
    public static long Bound(ExportableEvent e)
    {
        try
        {
            return JsonLinesEncoder.MaxLineBytes(e);
        }
        catch (OverflowException)
        {
            // A value whose bound passes 2 GiB: larger than any batch may be, so it goes alone.
            return int.MaxValue;
        }
    }
}

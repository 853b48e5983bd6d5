using FlagExport.Formats;

namespace FlagExport;

/// <summary>
/// An upper bound of the bytes an event takes in go-feature-flag's JSON lines, from its fields without encoding it:
/// what a batch is cut by (<see cref="DataExporterOptions.MaxBatchEncodedBytes"/>).
/// </summary>
/// <remarks>
/// Every character is counted at its longest escape (<see cref="GoJson.MaxStringBytes"/>), so the bound holds whatever
/// the text; a metadata object's bound is computed once and kept on the object, which a request's events share, so
/// the bound costs a few additions per event. It depends on the event alone: a batch cut again after a restart is cut
/// at the same place.
/// </remarks>
internal static class EventSize
{
    // Field names, quotes, commas, the newline and the fixed-width fields of one line (creation date, default), rounded up.
    private const long FixedBytes = 256;

    /// <summary>The bound for <paramref name="e"/>, in bytes.</summary>
    public static long Bound(ExportableEvent e)
    {
        try
        {
            long bytes = FixedBytes + Text(e.Kind) + Text(e.ContextKind) + Text(e.UserKey) + Text(e.Key);
            switch (e)
            {
                case FeatureEvent feature:
                    bytes += Text(feature.Variation) + Text(feature.Version) + Text(feature.Source)
                        + GoJson.MaxValueBytes(feature.Value) + Map(feature.MetadataObject);
                    break;
                case TrackingEvent tracking:
                    bytes += Map(tracking.EvaluationContextObject) + Map(tracking.TrackingEventDetailsObject);
                    break;
            }

            return bytes;
        }
        catch (OverflowException)
        {
            // A value whose bound passes 2 GiB: larger than any batch may be, so it goes alone.
            return int.MaxValue;
        }
    }

    private static long Text(string? value) => GoJson.MaxStringBytes(value?.Length ?? 0);

    private static long Map(FlagObject? map) => map is null ? 4 : GoJson.MaxObjectBytes(map);
}

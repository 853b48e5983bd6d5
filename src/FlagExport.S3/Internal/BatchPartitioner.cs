namespace FlagExport.S3;

/// <summary>Splits a batch into one group per object key prefix, as the <c>S3Path</c> date fields decide.</summary>
internal static class BatchPartitioner
{
    /// <summary>
    /// Splits the batch by key prefix, keeping the order of events within each; the whole batch, uncopied, when the
    /// prefix has no date field or every event falls in the same partition.
    /// </summary>
    public static List<(string Prefix, IReadOnlyList<ExportableEvent> Events)> Partition(S3ExportSettings settings, IReadOnlyList<ExportableEvent> events)
    {
        if (settings.FixedPrefix is { } fixedPrefix)
        {
            return [(fixedPrefix, events)];
        }

        // Date fields go down to the hour: the prefix is rendered once per hour met, not once per event.
        var cache = new HourPrefixCache(settings);
        string first = cache.PrefixFor(events[0].CreationDate);
        int firstOther = -1;
        for (int i = 1; i < events.Count; i++)
        {
            if (!ReferenceEquals(cache.PrefixFor(events[i].CreationDate), first))
            {
                firstOther = i;
                break;
            }
        }

        if (firstOther < 0)
        {
            return [(first, events)];
        }

        var groups = new Dictionary<string, List<ExportableEvent>>(StringComparer.Ordinal);
        var result = new List<(string, IReadOnlyList<ExportableEvent>)>();
        foreach (ExportableEvent item in events)
        {
            string prefix = cache.PrefixFor(item.CreationDate);
            if (!groups.TryGetValue(prefix, out List<ExportableEvent>? group))
            {
                group = [];
                groups.Add(prefix, group);
                result.Add((prefix, group));
            }

            group.Add(item);
        }

        return result;
    }

    /// <summary>Renders prefixes by creation hour, returning the same string instance for every hour with the same prefix.</summary>
    private sealed class HourPrefixCache(S3ExportSettings settings)
    {
        private readonly Dictionary<long, string> _byHour = [];
        private readonly Dictionary<string, string> _interned = new(StringComparer.Ordinal);

        public string PrefixFor(long creationDate)
        {
            long hour = Math.DivRem(creationDate, 3600, out long remainder) - (remainder < 0 ? 1 : 0);
            if (!_byHour.TryGetValue(hour, out string? prefix))
            {
                prefix = settings.PrefixFor(creationDate);
                if (!_interned.TryAdd(prefix, prefix))
                {
                    prefix = _interned[prefix];
                }

                _byHour.Add(hour, prefix);
            }

            return prefix;
        }
    }
}

using System.Globalization;
using FlagExport.Templates;

namespace FlagExport;

/// <summary>
/// A path template that splits a batch by event time, such as go-feature-flag's <c>S3Path</c>: a relative path that
/// may contain <c>/</c> and the fields <c>{{ .Year}}</c>, <c>{{ .Month}}</c>, <c>{{ .Day}}</c> and <c>{{ .Hour}}</c>
/// (zero-padded, UTC, from each event's <see cref="ExportableEvent.CreationDate"/>). Hive layouts are written as
/// literals around the fields: <c>year={{ .Year}}/month={{ .Month}}/</c> or <c>dt={{ .Year}}-{{ .Month}}-{{ .Day}}/</c>.
/// </summary>
/// <remarks>
/// A rendered path is normalised as an object key prefix: its non-empty <c>/</c>-separated segments joined by one
/// <c>/</c>, ending in <c>/</c> unless empty (<c>/a//b</c> → <c>a/b/</c>). Segments such as <c>..</c> are kept, as
/// object stores allow them: an exporter that maps paths to folders checks them itself. Immutable and thread-safe.
/// </remarks>
public sealed class PartitionTemplate
{
    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    private readonly CompiledTemplate _template;
    private readonly string? _fixedPath;

    private PartitionTemplate(CompiledTemplate template)
    {
        _template = template;
        HasTimeFields = template.Segments.Any(segment => !segment.IsLiteral);
        _fixedPath = HasTimeFields ? null : Normalize(template.Render(new string?[TemplateFieldSets.Partition.Names.Count]));
    }

    /// <summary>Whether the template has a time field, so that events of one batch may fall into several partitions.</summary>
    internal bool HasTimeFields { get; }

    /// <summary>Parses a template; <see langword="null"/> is the same as empty: one partition, the empty path.</summary>
    /// <param name="template">The template text.</param>
    /// <param name="optionName">The option the template comes from, named in the error message.</param>
    /// <exception cref="ArgumentException">The template is invalid; the message names the option, the place and the valid fields.</exception>
    public static PartitionTemplate Parse(string? template, string optionName)
    {
        ArgumentException.ThrowIfNullOrEmpty(optionName);
        return new(TemplateParser.Parse(template ?? "", TemplateFieldSets.Partition, optionName));
    }

    /// <summary>The normalised path of events created at <paramref name="creationDate"/> (Unix seconds).</summary>
    /// <remarks>Dates outside years 1 to 9999 are clamped to that range rather than failing the batch.</remarks>
    internal string Render(long creationDate)
    {
        if (_fixedPath is not null)
        {
            return _fixedPath;
        }

        DateTime utc = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(creationDate, MinUnixSeconds, MaxUnixSeconds)).UtcDateTime;
        string?[] values = new string?[TemplateFieldSets.Partition.Names.Count];
        values[(int)PartitionField.Year] = utc.ToString("yyyy", CultureInfo.InvariantCulture);
        values[(int)PartitionField.Month] = utc.ToString("MM", CultureInfo.InvariantCulture);
        values[(int)PartitionField.Day] = utc.ToString("dd", CultureInfo.InvariantCulture);
        values[(int)PartitionField.Hour] = utc.ToString("HH", CultureInfo.InvariantCulture);
        return Normalize(_template.Render(values));
    }

    /// <summary>
    /// Splits <paramref name="events"/> by their rendered path, in the order the paths first appear, keeping the order
    /// of events within each; the list itself, uncopied, when every event falls into one partition.
    /// </summary>
    /// <param name="events">The batch; not empty.</param>
    /// <returns>One entry per distinct path; each path is a distinct string.</returns>
    public IReadOnlyList<(string Path, IReadOnlyList<ExportableEvent> Events)> Partition(IReadOnlyList<ExportableEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            throw new ArgumentException("A batch to partition has at least one event.", nameof(events));
        }

        if (_fixedPath is not null)
        {
            return [(_fixedPath, events)];
        }

        // The fields go down to the hour: a path is rendered once per hour met, not once per event.
        var cache = new HourPathCache(this);
        string first = cache.PathFor(events[0].CreationDate);
        int firstOther = -1;
        for (int i = 1; i < events.Count; i++)
        {
            if (!ReferenceEquals(cache.PathFor(events[i].CreationDate), first))
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
            string path = cache.PathFor(item.CreationDate);
            if (!groups.TryGetValue(path, out List<ExportableEvent>? group))
            {
                group = [];
                groups.Add(path, group);
                result.Add((path, group));
            }

            group.Add(item);
        }

        return result;
    }

    private static string Normalize(string path)
    {
        string[] segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length == 0 ? "" : string.Join('/', segments) + "/";
    }

    /// <summary>Renders paths by creation hour, returning the same string instance for every hour with the same path.</summary>
    private sealed class HourPathCache(PartitionTemplate template)
    {
        private readonly Dictionary<long, string> _byHour = [];
        private readonly Dictionary<string, string> _interned = new(StringComparer.Ordinal);

        public string PathFor(long creationDate)
        {
            long hour = Math.DivRem(creationDate, 3600, out long remainder) - (remainder < 0 ? 1 : 0);
            if (!_byHour.TryGetValue(hour, out string? path))
            {
                path = template.Render(creationDate);
                if (!_interned.TryAdd(path, path))
                {
                    path = _interned[path];
                }

                _byHour.Add(hour, path);
            }

            return path;
        }
    }
}

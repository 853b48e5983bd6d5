using System.Runtime.InteropServices;

namespace FlagExport;

/// <summary>
/// The one mapping of OpenTelemetry's <c>feature_flag.evaluation</c> event (semantic conventions) onto go-feature-flag's
/// <see cref="FeatureEvent"/>, fed one attribute at a time by whoever reads the event: an <see cref="System.Diagnostics.ActivityEvent"/>
/// in the library, an OTLP log record or span event in the collector.
/// </summary>
/// <remarks>
/// <para>The attributes that have a field of their own are read into it; every other attribute with a value (the
/// provider, the flag set, the reason, the error, an SDK's custom attributes) goes into <see cref="FeatureEvent.Metadata"/>
/// under its own name. The older names (<c>feature_flag.variant</c>, <c>feature_flag.evaluation.reason</c>) are read as
/// well; where both are present the current name wins. A name given twice keeps its last value.</para>
/// <para>Reusable: <see cref="Clear"/> starts the next evaluation, and the metadata list keeps its capacity, so reading
/// allocates only the event, and its metadata unless that equals one of the last few (then shared). Not thread-safe.</para>
/// </remarks>
internal sealed class FeatureFlagEvaluationFields
{
    internal const string KeyAttribute = "feature_flag.key";
    internal const string VariantAttribute = "feature_flag.result.variant";
    internal const string LegacyVariantAttribute = "feature_flag.variant";
    internal const string ValueAttribute = "feature_flag.result.value";
    internal const string ReasonAttribute = "feature_flag.result.reason";
    internal const string LegacyReasonAttribute = "feature_flag.evaluation.reason";
    internal const string ContextIdAttribute = "feature_flag.context.id";
    internal const string VersionAttribute = "feature_flag.version";
    internal const string ErrorTypeAttribute = "error.type";

    /// <summary>The resource attribute naming the application, kept in the metadata unless the event has its own.</summary>
    internal const string ServiceNameAttribute = "service.name";

    /// <summary>What go-feature-flag's SDK hooks write as the variation when the evaluation names none.</summary>
    internal const string NoVariant = "SdkDefault";

    /// <summary>How many recent metadata objects are kept for reuse (see <see cref="Metadata"/>).</summary>
    private const int RecentMetadataCount = 4;

    private readonly List<KeyValuePair<string, FlagValue>> _metadata = [];
    private readonly FlagObject?[] _recentMetadata = new FlagObject?[RecentMetadataCount];
    private readonly KeyValuePair<string, FlagValue>[]?[] _recentAttributes = new KeyValuePair<string, FlagValue>[]?[RecentMetadataCount];
    private readonly string?[] _recentServiceNames = new string?[RecentMetadataCount];
    private KeyValuePair<string, FlagValue>[] _sorted = new KeyValuePair<string, FlagValue>[8];
    private int _nextRecent;
    private string? _key, _variant, _legacyVariant, _contextId, _version, _reason, _legacyReason;
    private FlagValue _value;
    private bool _failed;

    /// <summary>Forgets the previous evaluation.</summary>
    public void Clear()
    {
        _metadata.Clear();
        _key = _variant = _legacyVariant = _contextId = _version = _reason = _legacyReason = null;
        _value = default;
        _failed = false;
    }

    /// <summary>Reads one attribute; a null value is no attribute.</summary>
    public void Add(string name, FlagValue value)
    {
        if (value.IsNull)
        {
            return;
        }

        switch (name)
        {
            case KeyAttribute:
                _key = AsString(value);
                return;
            case VariantAttribute:
                _variant = AsString(value);
                return;
            case LegacyVariantAttribute:
                _legacyVariant = AsString(value);
                return;
            case ValueAttribute:
                _value = value;
                return;
            case ContextIdAttribute:
                _contextId = AsString(value);
                return;
            case VersionAttribute:
                _version = AsString(value);
                return;
            case ReasonAttribute:
                _reason = AsString(value);
                break;
            case LegacyReasonAttribute:
                _legacyReason = AsString(value);
                break;
            case ErrorTypeAttribute:
                _failed = true;
                break;
        }

        _metadata.Add(new(name, value));
    }

    /// <summary>Whether the evaluation read so far has its <c>feature_flag.key</c>.</summary>
    public bool HasKey => !string.IsNullOrEmpty(_key);

    /// <summary>
    /// The event, or null when it has no <c>feature_flag.key</c> (the conventions require it; without it there is nothing
    /// to export).
    /// </summary>
    /// <param name="creationDate">When the flag was evaluated, in Unix seconds.</param>
    /// <param name="serviceName">The resource's <c>service.name</c>, added to the metadata unless the event has its own.</param>
    public FeatureEvent? ToFeatureEvent(long creationDate, string? serviceName = null)
    {
        if (string.IsNullOrEmpty(_key))
        {
            return null;
        }

        string? reason = _reason ?? _legacyReason;
        bool hasContext = !string.IsNullOrEmpty(_contextId);
        return new FeatureEvent
        {
            Key = _key,
            ContextKind = hasContext ? "user" : "anonymousUser",
            UserKey = hasContext ? _contextId! : "",
            CreationDate = creationDate,
            Variation = !string.IsNullOrEmpty(_variant) ? _variant : !string.IsNullOrEmpty(_legacyVariant) ? _legacyVariant : NoVariant,
            Value = _value,
            // The caller's default is what an SDK serves on error, and what "default" says it served.
            Default = _failed
                || string.Equals(reason, "default", StringComparison.OrdinalIgnoreCase)
                || string.Equals(reason, "error", StringComparison.OrdinalIgnoreCase),
            Version = _version ?? "",
            Source = "SERVER",
            Metadata = Metadata(serviceName),
        };
    }

    /// <summary>The attributes without a field of their own, sorted and unique as <see cref="FlagObject"/> keeps them.</summary>
    /// <remarks>
    /// Evaluations in a row mostly carry the same metadata (one service, one provider, a few reasons), given in the same
    /// order (an SDK's): attributes and service name equal, in order, to those one of the last few objects was built from
    /// give that object, shared (objects are immutable, and encoders recognise shared ones by reference), without a sort
    /// and without allocating. Otherwise sorted in a reused array, and a new object copies it once.
    /// </remarks>
    private FlagObject? Metadata(string? serviceName)
    {
        int count = _metadata.Count + (string.IsNullOrEmpty(serviceName) ? 0 : 1);
        if (count == 0)
        {
            return null;
        }

        if (_metadata.Count > InsertionSortLimit)
        {
            // Many attributes (a request, not an SDK, decides how many): FlagObject's stable sort, not a quadratic one;
            // it keeps the last value of a name given twice, as the insertion does. Such metadata is not shared.
            var all = new KeyValuePair<string, FlagValue>[count];
            if (!string.IsNullOrEmpty(serviceName))
            {
                // First, so that the event's own service.name, given later, replaces it.
                all[0] = new(ServiceNameAttribute, FlagValue.FromString(serviceName));
            }

            _metadata.CopyTo(all, count - _metadata.Count);
            return FlagObject.Create(all);
        }

        ReadOnlySpan<KeyValuePair<string, FlagValue>> attributes = CollectionsMarshal.AsSpan(_metadata);
        for (int i = 0; i < RecentMetadataCount; i++)
        {
            if (_recentAttributes[i] is { } seen && string.Equals(_recentServiceNames[i], serviceName, StringComparison.Ordinal)
                && SameProperties(seen, attributes))
            {
                return _recentMetadata[i];
            }
        }

        if (_sorted.Length < count)
        {
            _sorted = new KeyValuePair<string, FlagValue>[Math.Max(count, 2 * _sorted.Length)];
        }

        int filled = 0;
        if (!string.IsNullOrEmpty(serviceName))
        {
            // First, so that the event's own service.name, given later, replaces it.
            _sorted[filled++] = new(ServiceNameAttribute, FlagValue.FromString(serviceName));
        }

        foreach (KeyValuePair<string, FlagValue> property in _metadata)
        {
            filled = Insert(_sorted, filled, property);
        }

        FlagObject metadata = FlagObject.FromSortedUnique(_sorted.AsSpan(0, filled).ToArray());
        Array.Clear(_sorted, 0, filled); // keeps no strings or values of past events alive
        _recentMetadata[_nextRecent] = metadata;
        _recentAttributes[_nextRecent] = attributes.ToArray();
        _recentServiceNames[_nextRecent] = serviceName;
        _nextRecent = (_nextRecent + 1) % RecentMetadataCount;
        return metadata;
    }

    private static bool SameProperties(ReadOnlySpan<KeyValuePair<string, FlagValue>> a, ReadOnlySpan<KeyValuePair<string, FlagValue>> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            // Names and most values are the string cache's instances: equal by reference, the first check.
            if (!string.Equals(a[i].Key, b[i].Key, StringComparison.Ordinal) || !a[i].Value.Equals(b[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Up to this many attributes, insertion into the sorted array beats sorting it.</summary>
    private const int InsertionSortLimit = 16;

    /// <summary>Inserts into the sorted, unique <paramref name="properties"/>[..filled]; a name present keeps the new value.</summary>
    private static int Insert(KeyValuePair<string, FlagValue>[] properties, int filled, KeyValuePair<string, FlagValue> property)
    {
        int at = filled;
        while (at > 0 && Utf8OrdinalComparer.Instance.Compare(properties[at - 1].Key, property.Key) > 0)
        {
            at--;
        }

        if (at > 0 && string.Equals(properties[at - 1].Key, property.Key, StringComparison.Ordinal))
        {
            properties[at - 1] = property;
            return filled;
        }

        Array.Copy(properties, at, properties, at + 1, filled - at);
        properties[at] = property;
        return filled + 1;
    }

    /// <summary>A field's text: strings as they are, anything else as <see cref="FlagValue.ToString"/> writes it (invariant numbers).</summary>
    private static string AsString(FlagValue value) => value.Kind == FlagValueKind.String ? value.AsString() : value.ToString();
}

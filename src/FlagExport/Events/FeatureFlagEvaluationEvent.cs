using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace FlagExport;

/// <summary>
/// OpenTelemetry's feature-flag evaluation event (semantic conventions, <c>feature_flag.evaluation</c>) as an
/// <see cref="ActivityEvent"/>, read into go-feature-flag's <see cref="FeatureEvent"/>.
/// </summary>
/// <remarks>
/// <para>The attributes that have a field of their own are read into it; every other attribute with a value (the
/// provider, the flag set, the reason, the error, an SDK's custom tags) goes into <see cref="FeatureEvent.Metadata"/>
/// under its own name. The older names (event <c>feature_flag</c>, <c>feature_flag.variant</c>,
/// <c>feature_flag.provider_name</c>, <c>feature_flag.evaluation.reason</c>) are read as well; where both are present
/// the current name wins.</para>
/// <para>One pass over the attributes, a second only when some go to the metadata; the allocations are the event, its
/// metadata and values that are not strings, booleans or numbers.</para>
/// </remarks>
internal static class FeatureFlagEvaluationEvent
{
    /// <summary>The event's name in the current conventions.</summary>
    internal const string EventName = "feature_flag.evaluation";

    /// <summary>The event's name before the conventions renamed it (the OpenFeature SDKs' first tracing hooks).</summary>
    internal const string LegacyEventName = "feature_flag";

    internal const string KeyAttribute = "feature_flag.key";
    internal const string VariantAttribute = "feature_flag.result.variant";
    internal const string LegacyVariantAttribute = "feature_flag.variant";
    internal const string ValueAttribute = "feature_flag.result.value";
    internal const string ReasonAttribute = "feature_flag.result.reason";
    internal const string LegacyReasonAttribute = "feature_flag.evaluation.reason";
    internal const string ContextIdAttribute = "feature_flag.context.id";
    internal const string VersionAttribute = "feature_flag.version";
    internal const string ErrorTypeAttribute = "error.type";

    /// <summary>What go-feature-flag's SDK hooks write as the variation when the evaluation names none.</summary>
    internal const string NoVariant = "SdkDefault";

    /// <summary>How deep nested values are followed; deeper ones (or a structure that contains itself) become null.</summary>
    private const int MaxDepth = 64;

    /// <summary>Whether <paramref name="name"/> is the name of an evaluation event.</summary>
    internal static bool IsEvaluation(string name) =>
        string.Equals(name, EventName, StringComparison.Ordinal) || string.Equals(name, LegacyEventName, StringComparison.Ordinal);

    /// <summary>
    /// The <see cref="FeatureEvent"/> of <paramref name="evaluation"/>, or null when it has no <c>feature_flag.key</c>
    /// (the conventions require it; without it there is nothing to export).
    /// </summary>
    internal static FeatureEvent? ToFeatureEvent(in ActivityEvent evaluation)
    {
        string? key = null, variant = null, legacyVariant = null, contextId = null, version = null, reason = null, legacyReason = null;
        object? value = null;
        bool failed = false;
        int metadataCount = 0;
        foreach (ref readonly KeyValuePair<string, object?> tag in evaluation.EnumerateTagObjects())
        {
            if (tag.Value is null)
            {
                continue;
            }

            switch (tag.Key)
            {
                case KeyAttribute:
                    key = AsString(tag.Value);
                    break;
                case VariantAttribute:
                    variant = AsString(tag.Value);
                    break;
                case LegacyVariantAttribute:
                    legacyVariant = AsString(tag.Value);
                    break;
                case ValueAttribute:
                    value = tag.Value;
                    break;
                case ContextIdAttribute:
                    contextId = AsString(tag.Value);
                    break;
                case VersionAttribute:
                    version = AsString(tag.Value);
                    break;
                default:
                    if (tag.Key == ReasonAttribute)
                    {
                        reason = AsString(tag.Value);
                    }
                    else if (tag.Key == LegacyReasonAttribute)
                    {
                        legacyReason = AsString(tag.Value);
                    }
                    else if (tag.Key == ErrorTypeAttribute)
                    {
                        failed = true;
                    }

                    metadataCount++;
                    break;
            }
        }

        if (string.IsNullOrEmpty(key))
        {
            return null;
        }

        reason ??= legacyReason;
        bool hasContext = !string.IsNullOrEmpty(contextId);
        return new FeatureEvent
        {
            Key = key,
            ContextKind = hasContext ? "user" : "anonymousUser",
            UserKey = hasContext ? contextId! : "",
            CreationDate = evaluation.Timestamp.ToUnixTimeSeconds(),
            Variation = !string.IsNullOrEmpty(variant) ? variant : !string.IsNullOrEmpty(legacyVariant) ? legacyVariant : NoVariant,
            Value = ToFlagValue(value, 0),
            // The caller's default is what an SDK serves on error, and what "default" says it served.
            Default = failed
                || string.Equals(reason, "default", StringComparison.OrdinalIgnoreCase)
                || string.Equals(reason, "error", StringComparison.OrdinalIgnoreCase),
            Version = version ?? "",
            Source = "SERVER",
            Metadata = metadataCount == 0 ? null : Metadata(evaluation, metadataCount),
        };
    }

    /// <summary>The attributes without a field of their own, sorted as <see cref="FlagObject"/> keeps them.</summary>
    private static FlagObject Metadata(in ActivityEvent evaluation, int count)
    {
        var properties = new KeyValuePair<string, FlagValue>[count];
        int filled = 0;
        foreach (ref readonly KeyValuePair<string, object?> tag in evaluation.EnumerateTagObjects())
        {
            if (tag.Value is null || filled == count || HasField(tag.Key))
            {
                continue;
            }

            // Insertion sort: a handful of attributes. An ActivityTagsCollection holds each name once, but a name seen
            // twice keeps its last value, as FlagObject does.
            var property = new KeyValuePair<string, FlagValue>(tag.Key, ToFlagValue(tag.Value, 0));
            int at = filled;
            while (at > 0 && Utf8OrdinalComparer.Instance.Compare(properties[at - 1].Key, property.Key) > 0)
            {
                at--;
            }

            if (at > 0 && string.Equals(properties[at - 1].Key, property.Key, StringComparison.Ordinal))
            {
                properties[at - 1] = property;
                continue;
            }

            Array.Copy(properties, at, properties, at + 1, filled - at);
            properties[at] = property;
            filled++;
        }

        if (filled < count)
        {
            Array.Resize(ref properties, filled);
        }

        return FlagObject.FromSortedUnique(properties);
    }

    private static bool HasField(string name) => name is KeyAttribute or VariantAttribute or LegacyVariantAttribute
        or ValueAttribute or ContextIdAttribute or VersionAttribute;

    private static string AsString(object value) => value as string
        ?? (value is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : value.ToString() ?? "");

    /// <summary>
    /// An attribute value as a JSON value: strings, booleans and numbers as they are (a non-finite number as its text,
    /// which JSON cannot hold), JSON elements and <see cref="FlagValue"/>s as they are, dictionaries with string keys as
    /// objects, other sequences (OpenTelemetry's array attributes) as arrays, dates in ISO 8601, anything else as its
    /// <see cref="object.ToString"/>, or null when that only names its type (the OpenFeature SDK's <c>Value</c>).
    /// </summary>
    internal static FlagValue ToFlagValue(object? value, int depth)
    {
        switch (value)
        {
            case null:
                return FlagValue.Null;
            case string text:
                return FlagValue.FromString(text);
            case bool flag:
                return FlagValue.FromBoolean(flag);
            case int number:
                return FlagValue.FromInteger(number);
            case long number:
                return FlagValue.FromInteger(number);
            case short number:
                return FlagValue.FromInteger(number);
            case byte number:
                return FlagValue.FromInteger(number);
            case sbyte number:
                return FlagValue.FromInteger(number);
            case ushort number:
                return FlagValue.FromInteger(number);
            case uint number:
                return FlagValue.FromInteger(number);
            case ulong number:
                return number <= long.MaxValue ? FlagValue.FromInteger((long)number) : FlagValue.FromDouble(number);
            case double number:
                return Finite(number);
            case float number:
                return Finite(number);
            case decimal number:
                return FlagValue.FromDouble((double)number);
            case FlagValue flagValue:
                return flagValue;
            case FlagObject flagObject:
                return FlagValue.FromObject(flagObject);
            case JsonElement element:
                return FromJson(element);
            case DateTimeOffset date:
                return FlagValue.FromString(date.ToString("O", CultureInfo.InvariantCulture));
            case DateTime date:
                return FlagValue.FromString(date.ToString("O", CultureInfo.InvariantCulture));
            case IEnumerable<KeyValuePair<string, object?>> properties:
                return depth >= MaxDepth ? FlagValue.Null : FromProperties(properties, depth + 1);
            case IEnumerable items:
                return depth >= MaxDepth ? FlagValue.Null : FromItems(items, depth + 1);
            default:
                string? shown = value.ToString();
                return shown is null || shown == value.GetType().FullName ? FlagValue.Null : FlagValue.FromString(shown);
        }
    }

    private static FlagValue Finite(double number) =>
        double.IsFinite(number) ? FlagValue.FromDouble(number) : FlagValue.FromString(number.ToString(CultureInfo.InvariantCulture));

    private static FlagValue FromJson(JsonElement element)
    {
        try
        {
            return FlagValue.FromJsonElement(element);
        }
        catch (ArgumentException)
        {
            // A number beyond a double's range: kept as its text rather than lost.
            return FlagValue.FromString(element.GetRawText());
        }
    }

    private static FlagValue FromProperties(IEnumerable<KeyValuePair<string, object?>> properties, int depth)
    {
        var converted = new List<KeyValuePair<string, FlagValue>>();
        foreach (KeyValuePair<string, object?> property in properties)
        {
            if (property.Key is not null)
            {
                converted.Add(new(property.Key, ToFlagValue(property.Value, depth)));
            }
        }

        return FlagValue.FromObject(converted);
    }

    private static FlagValue FromItems(IEnumerable items, int depth)
    {
        var converted = new List<FlagValue>();
        foreach (object? item in items)
        {
            converted.Add(ToFlagValue(item, depth));
        }

        return FlagValue.FromOwnedArray([.. converted]);
    }
}

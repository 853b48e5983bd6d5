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
/// The attributes are mapped by <see cref="FeatureFlagEvaluationFields"/>, which the collector's OTLP receiver shares; this
/// type names the events and turns the tags' .NET values into <see cref="FlagValue"/>s. The allocations are the event, its
/// metadata and values that are not strings, booleans or numbers.
/// </remarks>
internal static class FeatureFlagEvaluationEvent
{
    /// <summary>The event's name in the current conventions.</summary>
    internal const string EventName = "feature_flag.evaluation";

    /// <summary>The event's name before the conventions renamed it (the OpenFeature SDKs' first tracing hooks).</summary>
    internal const string LegacyEventName = "feature_flag";

    /// <summary>How deep nested values are followed; deeper ones (or a structure that contains itself) become null.</summary>
    private const int MaxDepth = 64;

    /// <summary>Whether <paramref name="name"/> is the name of an evaluation event.</summary>
    internal static bool IsEvaluation(string name) =>
        string.Equals(name, EventName, StringComparison.Ordinal) || string.Equals(name, LegacyEventName, StringComparison.Ordinal);

    /// <summary>Each thread's reusable fields: events are read where they are recorded, on any thread.</summary>
    [ThreadStatic]
    private static FeatureFlagEvaluationFields? t_fields;

    /// <summary>
    /// The <see cref="FeatureEvent"/> of <paramref name="evaluation"/> by <see cref="FeatureFlagEvaluationFields"/>, or null
    /// when it has no <c>feature_flag.key</c>.
    /// </summary>
    internal static FeatureEvent? ToFeatureEvent(in ActivityEvent evaluation)
    {
        FeatureFlagEvaluationFields fields = t_fields ??= new FeatureFlagEvaluationFields();
        fields.Clear();
        foreach (ref readonly KeyValuePair<string, object?> tag in evaluation.EnumerateTagObjects())
        {
            fields.Add(tag.Key, ToFlagValue(tag.Value, 0));
        }

        FeatureEvent? converted = fields.ToFeatureEvent(evaluation.Timestamp.ToUnixTimeSeconds());
        fields.Clear();
        return converted;
    }

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

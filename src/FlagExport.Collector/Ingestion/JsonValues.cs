using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace FlagExport.Collector.Ingestion;

/// <summary>
/// Converts parsed JSON into <see cref="FlagValue"/>s as go-feature-flag's relay proxy sees them, without throwing on
/// anything a client can send.
/// </summary>
/// <remarks>
/// The relay proxy decodes the request into Go's <c>map[string]any</c>, where every number is a float64. Integers up to
/// 2^53 in magnitude are exact in a float64 and are kept as integers here; larger ones and decimals become doubles, so
/// that they are written with the same digits as Go writes them. Numbers beyond the double range, and strings or
/// property names holding a lone UTF-16 surrogate escape, cannot be represented and are reported as errors.
/// </remarks>
internal static class JsonValues
{
    /// <summary>2^53: the largest integer magnitude below which every integer is exact in a double.</summary>
    private const long MaxExactInteger = 1L << 53;

    /// <summary>Converts <paramref name="element"/>, or returns <see langword="false"/> with what is wrong with it.</summary>
    public static bool TryConvert(JsonElement element, [NotNullWhen(false)] out string? error, out FlagValue value)
    {
        value = default;
        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
                error = null;
                return true;
            case JsonValueKind.True:
                value = FlagValue.FromBoolean(true);
                error = null;
                return true;
            case JsonValueKind.False:
                value = FlagValue.FromBoolean(false);
                error = null;
                return true;
            case JsonValueKind.String:
                return TryGetString(element, out error, out string? text) && Set(FlagValue.FromString(text), out value);
            case JsonValueKind.Number:
                return TryGetNumber(element, out error, out value);
            case JsonValueKind.Array:
                var items = new List<FlagValue>(element.GetArrayLength());
                foreach (JsonElement item in element.EnumerateArray())
                {
                    if (!TryConvert(item, out error, out FlagValue converted))
                    {
                        return false;
                    }

                    items.Add(converted);
                }

                value = FlagValue.FromArray(items);
                error = null;
                return true;
            case JsonValueKind.Object:
                if (!TryConvertObject(element, out error, out FlagObject? properties))
                {
                    return false;
                }

                value = FlagValue.FromObject(properties);
                return true;
            default:
                error = $"unsupported JSON value kind {element.ValueKind}";
                return false;
        }
    }

    /// <summary>Converts a JSON object element into a <see cref="FlagObject"/>.</summary>
    public static bool TryConvertObject(JsonElement element, [NotNullWhen(false)] out string? error, [NotNullWhen(true)] out FlagObject? properties)
    {
        properties = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = $"must be a JSON object; got {Describe(element)}";
            return false;
        }

        var items = new List<KeyValuePair<string, FlagValue>>();
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (!TryGetName(property, out error, out string? name))
            {
                return false;
            }

            if (!TryConvert(property.Value, out error, out FlagValue converted))
            {
                error = $"property '{name}': {error}";
                return false;
            }

            items.Add(new(name, converted));
        }

        properties = FlagObject.Create(items);
        error = null;
        return true;
    }

    /// <summary>The string of a JSON string element; fails on a lone surrogate escape such as <c>"\ud800"</c>.</summary>
    public static bool TryGetString(JsonElement element, [NotNullWhen(false)] out string? error, [NotNullWhen(true)] out string? text)
    {
        try
        {
            text = element.GetString()!;
            error = null;
            return true;
        }
        catch (InvalidOperationException)
        {
            text = null;
            error = "string holds invalid UTF-16 (a lone surrogate escape)";
            return false;
        }
    }

    /// <summary>The name of a property; fails on a lone surrogate escape in it.</summary>
    public static bool TryGetName(JsonProperty property, [NotNullWhen(false)] out string? error, [NotNullWhen(true)] out string? name)
    {
        try
        {
            name = property.Name;
            error = null;
            return true;
        }
        catch (InvalidOperationException)
        {
            name = null;
            error = "a property name holds invalid UTF-16 (a lone surrogate escape)";
            return false;
        }
    }

    /// <summary>A short description of an element's type for error messages: <c>a string</c>, <c>null</c>, …</summary>
    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static bool TryGetNumber(JsonElement element, [NotNullWhen(false)] out string? error, out FlagValue value)
    {
        if (element.TryGetInt64(out long integer) && integer is > -MaxExactInteger and < MaxExactInteger)
        {
            value = FlagValue.FromInteger(integer);
            error = null;
            return true;
        }

        if (element.TryGetDouble(out double number) && double.IsFinite(number))
        {
            value = FlagValue.FromDouble(number);
            error = null;
            return true;
        }

        value = default;
        error = $"number {element.GetRawText()} is out of range";
        return false;
    }

    private static bool Set(FlagValue converted, out FlagValue value)
    {
        value = converted;
        return true;
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace FlagExport.Collector.Ingestion;

/// <summary>
/// Converts parsed JSON into <see cref="FlagValue"/>s as go-feature-flag's relay proxy sees them, without throwing on
/// anything a client can send.
/// </summary>
/// <remarks>
/// The relay proxy decodes the request into Go's <c>map[string]any</c>, where every number is a float64. Integers up to
/// 2^53 in magnitude are exact in a float64 and are kept as integers here; larger ones and decimals become doubles, so
/// that they are written with the same digits as Go writes them. Numbers beyond the double range cannot be represented
/// and are reported as errors. A lone UTF-16 surrogate escape (<c>"\ud800"</c>) becomes U+FFFD, as Go's decoder makes
/// it; invalid UTF-8 is replaced before parsing (<see cref="CollectRequest"/>).
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
                value = FlagValue.FromString(GetString(element));
                error = null;
                return true;
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
            string name = GetName(property);
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

    /// <summary>The string of a JSON string element, with lone surrogate escapes replaced by U+FFFD.</summary>
    public static string GetString(JsonElement element)
    {
        string text;
        try
        {
            text = element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to unescape a lone surrogate such as "\ud800"; Go decodes it as U+FFFD.
            ReadOnlySpan<byte> raw = JsonMarshal.GetRawUtf8Value(element);
            text = Unescape(raw[1..^1]);
        }

        return ReplaceLoneSurrogates(text);
    }

    /// <summary>The name of a property, with lone surrogate escapes replaced by U+FFFD.</summary>
    public static string GetName(JsonProperty property)
    {
        string name;
        try
        {
            name = property.Name;
        }
        catch (InvalidOperationException)
        {
            name = Unescape(JsonMarshal.GetRawUtf8PropertyName(property));
        }

        return ReplaceLoneSurrogates(name);
    }

    /// <summary>
    /// Whether the property's name is <paramref name="name"/> (an ASCII field name), ignoring case as
    /// <see cref="StringComparison.OrdinalIgnoreCase"/> does on the decoded name; without allocating for the plain ASCII
    /// names events have, where the two comparisons agree.
    /// </summary>
    public static bool NameEqualsIgnoreCase(JsonProperty property, string name)
    {
        ReadOnlySpan<byte> raw = JsonMarshal.GetRawUtf8PropertyName(property);
        return Ascii.IsValid(raw) && !raw.Contains((byte)'\\')
            ? Ascii.EqualsIgnoreCase(raw, name)
            : GetName(property).Equals(name, StringComparison.OrdinalIgnoreCase);
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

    /// <summary>Replaces each surrogate that is not part of a pair with U+FFFD, as Go's JSON decoder does.</summary>
    internal static string ReplaceLoneSurrogates(string text)
    {
        int first = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0)
        {
            return text;
        }

        char[] chars = text.ToCharArray();
        for (int i = first; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    /// <summary>
    /// Decodes the escapes of a JSON string's raw UTF-8 content (without its quotes), keeping lone surrogates; used only
    /// for the strings System.Text.Json will not unescape. The parser has already checked the escapes are well formed.
    /// </summary>
    internal static string Unescape(ReadOnlySpan<byte> raw)
    {
        var text = new StringBuilder(raw.Length);
        while (!raw.IsEmpty)
        {
            int escape = raw.IndexOf((byte)'\\');
            if (escape < 0)
            {
                _ = text.Append(Encoding.UTF8.GetString(raw));
                break;
            }

            _ = text.Append(Encoding.UTF8.GetString(raw[..escape]));
            byte code = raw[escape + 1];
            if (code == (byte)'u')
            {
                _ = text.Append((char)int.Parse(Encoding.ASCII.GetString(raw.Slice(escape + 2, 4)), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                raw = raw[(escape + 6)..];
                continue;
            }

            _ = text.Append(code switch
            {
                (byte)'b' => '\b',
                (byte)'f' => '\f',
                (byte)'n' => '\n',
                (byte)'r' => '\r',
                (byte)'t' => '\t',
                _ => (char)code, // \" \\ \/
            });
            raw = raw[(escape + 2)..];
        }

        return text.ToString();
    }

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
}

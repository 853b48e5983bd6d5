using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace FlagExport.Json;

/// <summary>
/// Reads JSON values into <see cref="FlagValue"/>s as go-feature-flag sees them, in one pass over the tokens and without
/// throwing on anything well formed.
/// </summary>
/// <remarks>
/// <para>go-feature-flag decodes JSON into Go's <c>any</c>, where every number is a float64. Integers below 2^53 in
/// magnitude are exact in a float64 and are kept as integers; larger ones and decimals become doubles, so that they are
/// written with the digits Go writes (9007199254740993 reads as 9007199254740992). Numbers beyond the double range cannot
/// be represented and make the value <see cref="JsonReadStatus.Invalid"/>. Strings follow <see cref="JsonText"/>.</para>
/// <para>Objects are collected on a per-thread scratch list, sorted there and copied once into their
/// <see cref="FlagObject"/>; arrays likewise. The methods are synchronous, so the scratch lists never cross threads.</para>
/// </remarks>
internal static class FlagValueReader
{
    /// <summary>The deepest nesting read: System.Text.Json's default, which also bounds the recursion here.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// The deepest nesting of an already parsed <see cref="JsonElement"/> read by <see cref="FlagValue.FromJsonElement"/>,
    /// whose document may allow more than <see cref="MaxDepth"/>; still small enough for the recursion here.
    /// </summary>
    public const int MaxElementDepth = 256;

    /// <summary>2^53: integers of smaller magnitude are exact in a double.</summary>
    private const long MaxExactInteger = 1L << 53;

    /// <summary>Above this many properties, an object is sorted by <see cref="FlagObject.Create"/> instead of in place.</summary>
    private const int InPlaceSortLimit = 32;

    /// <summary>The largest scratch list kept for the next value; larger ones are left to the GC once used.</summary>
    private const int ScratchKeptCapacity = 4096;

    [ThreadStatic]
    private static List<KeyValuePair<string, FlagValue>>? t_properties;

    [ThreadStatic]
    private static List<FlagValue>? t_items;

    /// <summary>
    /// Reads the value whose first token is the reader's current token. With <paramref name="build"/> off the value is only
    /// checked (nothing is allocated) and <paramref name="value"/> stays null.
    /// </summary>
    /// <param name="reader">On the value's first token; on its last token afterwards, unless more data is needed.</param>
    /// <param name="strings">Reuses short strings (property names and string values), or <see langword="null"/>.</param>
    /// <param name="build">Whether to build the value or only check it.</param>
    /// <param name="value">The value read.</param>
    /// <param name="error">For <see cref="JsonReadStatus.Invalid"/>, what is wrong: <c>property 'a': number 1e400 is out of range</c>.</param>
    public static JsonReadStatus Read(ref Utf8JsonReader reader, Utf8StringCache? strings, bool build, out FlagValue value, out string? error)
    {
        int depth = reader.CurrentDepth;
        JsonReadStatus status = ReadValue(ref reader, strings, build, out value, out error);
        return status == JsonReadStatus.Invalid && !SkipRest(ref reader, depth) ? JsonReadStatus.NeedMoreData : status;
    }

    /// <summary>Reads the object whose <see cref="JsonTokenType.StartObject"/> is the reader's current token.</summary>
    /// <param name="reader">On the object's first token; on its last token afterwards, unless more data is needed.</param>
    /// <param name="strings">Reuses short strings, or <see langword="null"/>.</param>
    /// <param name="build">Whether to build the object or only check it.</param>
    /// <param name="properties">The object, or <see langword="null"/> when not built or not done.</param>
    /// <param name="error">For <see cref="JsonReadStatus.Invalid"/>, what is wrong.</param>
    public static JsonReadStatus ReadObject(ref Utf8JsonReader reader, Utf8StringCache? strings, bool build, out FlagObject? properties, out string? error)
    {
        int depth = reader.CurrentDepth;
        JsonReadStatus status = ReadObjectValue(ref reader, strings, build, out properties, out error);
        return status == JsonReadStatus.Invalid && !SkipRest(ref reader, depth) ? JsonReadStatus.NeedMoreData : status;
    }

    /// <summary>
    /// After a value was found invalid inside a container, reads on to the container's end (at <paramref name="depth"/>),
    /// so that the caller finds the reader on the value's last token; <see langword="false"/> when the text ends first.
    /// </summary>
    private static bool SkipRest(ref Utf8JsonReader reader, int depth)
    {
        while (!(reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.CurrentDepth == depth && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                return true; // the value is a single token
            }

            if (!reader.Read())
            {
                return false;
            }
        }

        return true;
    }

    private static JsonReadStatus ReadValue(ref Utf8JsonReader reader, Utf8StringCache? strings, bool build, out FlagValue value, out string? error)
    {
        value = default;
        error = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                value = build ? FlagValue.FromBoolean(true) : default;
                return JsonReadStatus.Done;
            case JsonTokenType.False:
                value = build ? FlagValue.FromBoolean(false) : default;
                return JsonReadStatus.Done;
            case JsonTokenType.String:
                value = build ? FlagValue.FromString(JsonText.GetString(ref reader, strings)) : default;
                return JsonReadStatus.Done;
            case JsonTokenType.Number:
                return ReadNumber(ref reader, build, out value, out error);
            case JsonTokenType.StartArray:
                return ReadArray(ref reader, strings, build, out value, out error);
            case JsonTokenType.StartObject:
                JsonReadStatus status = ReadObjectValue(ref reader, strings, build, out FlagObject? properties, out error);
                value = properties is null ? default : FlagValue.FromObject(properties);
                return status;
            default:
                return JsonReadStatus.Done; // null
        }
    }

    private static JsonReadStatus ReadObjectValue(ref Utf8JsonReader reader, Utf8StringCache? strings, bool build, out FlagObject? properties, out string? error)
    {
        properties = null;
        error = null;
        List<KeyValuePair<string, FlagValue>> scratch = t_properties ??= [];
        int start = scratch.Count;
        try
        {
            while (true)
            {
                if (!reader.Read())
                {
                    return JsonReadStatus.NeedMoreData;
                }

                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                // The name is decoded only when it is kept or named in an error.
                string? name = build ? JsonText.GetString(ref reader, strings) : null;
                Utf8JsonReader atName = reader;
                if (!reader.Read())
                {
                    return JsonReadStatus.NeedMoreData;
                }

                JsonReadStatus status = ReadValue(ref reader, strings, build, out FlagValue item, out error);
                if (status != JsonReadStatus.Done)
                {
                    if (status == JsonReadStatus.Invalid)
                    {
                        error = $"property '{name ?? JsonText.GetString(ref atName, null)}': {error}";
                    }

                    return status;
                }

                if (build)
                {
                    scratch.Add(new(name!, item));
                }
            }

            if (build)
            {
                properties = Collect(CollectionsMarshal.AsSpan(scratch)[start..]);
            }

            return JsonReadStatus.Done;
        }
        finally
        {
            scratch.RemoveRange(start, scratch.Count - start);
            if (start == 0 && scratch.Capacity > ScratchKeptCapacity)
            {
                t_properties = null; // one huge object must not stay pinned on a pool thread
            }
        }
    }

    private static JsonReadStatus ReadArray(ref Utf8JsonReader reader, Utf8StringCache? strings, bool build, out FlagValue value, out string? error)
    {
        value = default;
        error = null;
        List<FlagValue> scratch = t_items ??= [];
        int start = scratch.Count;
        try
        {
            while (true)
            {
                if (!reader.Read())
                {
                    return JsonReadStatus.NeedMoreData;
                }

                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    break;
                }

                JsonReadStatus status = ReadValue(ref reader, strings, build, out FlagValue item, out error);
                if (status != JsonReadStatus.Done)
                {
                    return status;
                }

                if (build)
                {
                    scratch.Add(item);
                }
            }

            if (build)
            {
                value = FlagValue.FromOwnedArray(CollectionsMarshal.AsSpan(scratch)[start..].ToArray());
            }

            return JsonReadStatus.Done;
        }
        finally
        {
            scratch.RemoveRange(start, scratch.Count - start);
            if (start == 0 && scratch.Capacity > ScratchKeptCapacity)
            {
                t_items = null;
            }
        }
    }

    private static JsonReadStatus ReadNumber(ref Utf8JsonReader reader, bool build, out FlagValue value, out string? error)
    {
        value = default;
        error = null;
        if (reader.TryGetInt64(out long integer) && integer is > -MaxExactInteger and < MaxExactInteger)
        {
            value = build ? FlagValue.FromInteger(integer) : default;
            return JsonReadStatus.Done;
        }

        if (reader.TryGetDouble(out double number) && double.IsFinite(number))
        {
            value = build ? FlagValue.FromDouble(number) : default;
            return JsonReadStatus.Done;
        }

        error = $"number {RawText(ref reader)} is out of range";
        return JsonReadStatus.Invalid;
    }

    /// <summary>The raw text of the current number token.</summary>
    internal static string RawText(ref Utf8JsonReader reader) =>
        reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan);

    /// <summary>
    /// Sorts <paramref name="properties"/> as <see cref="FlagObject"/> keeps them (stable, so the last of a repeated name
    /// stays last in its run), keeps the last of each name and copies the result once. Reorders the span; shared with
    /// the collector's OTLP reader, whose key-value lists follow the same rules.
    /// </summary>
    internal static FlagObject Collect(Span<KeyValuePair<string, FlagValue>> properties)
    {
        if (properties.Length == 0)
        {
            return FlagObject.Empty;
        }

        if (properties.Length > InPlaceSortLimit)
        {
            return FlagObject.Create(properties.ToArray());
        }

        // Insertion sort: stable, and the fastest for the handful of keys metadata and flag values have.
        for (int i = 1; i < properties.Length; i++)
        {
            KeyValuePair<string, FlagValue> item = properties[i];
            int j = i - 1;
            while (j >= 0 && Utf8OrdinalComparer.Instance.Compare(properties[j].Key, item.Key) > 0)
            {
                properties[j + 1] = properties[j];
                j--;
            }

            properties[j + 1] = item;
        }

        int unique = 1;
        for (int i = 1; i < properties.Length; i++)
        {
            if (string.Equals(properties[unique - 1].Key, properties[i].Key, StringComparison.Ordinal))
            {
                properties[unique - 1] = properties[i];
            }
            else
            {
                properties[unique++] = properties[i];
            }
        }

        return FlagObject.FromSortedUnique(properties[..unique].ToArray());
    }
}

using System.Buffers;
using System.Globalization;
using System.Text;
using FlagExport.Buffers;

namespace FlagExport.Formats;

/// <summary>
/// Writes JSON strings and values with the exact bytes Go's encoding/json produces (go-feature-flag's output).
/// </summary>
/// <remarks>
/// Written by hand because no JavaScriptEncoder of System.Text.Json yields Go's bytes: it escapes non-ASCII, <c>+</c>,
/// <c>'</c> and backtick, and writes upper-case hex. Go's rules, from
/// encoding/json's <c>appendString</c> and <c>floatEncoder</c>:
/// <list type="bullet">
/// <item>non-ASCII stays raw UTF-8; <c>&lt; &gt; &amp;</c>, U+2028 and U+2029 become <c>\u003c \u003e \u0026 \u2028 \u2029</c>;</item>
/// <item><c>\" \\ \n \r \t \b \f</c> use short escapes, other control characters <c>\u00XX</c> in lower-case hex;</item>
/// <item>invalid text (a lone UTF-16 surrogate here, invalid UTF-8 in Go) becomes the escape <c>\ufffd</c>;</item>
/// <item>float64 in the shortest round-trip form, fixed notation from 1e-6 up to 1e21, else <c>1e-7</c>, <c>1e+21</c>.</item>
/// </list>
/// Nothing here allocates: strings are transcoded straight into the output span.
/// </remarks>
internal static class GoJson
{
    private const int MaxDoubleChars = 32;
    private const int MaxLongChars = 20;

    // Every char that leaves the fast path: controls, quote, backslash, HTML characters, line/paragraph separators, surrogates.
    private static readonly SearchValues<char> SpecialChars = SearchValues.Create(BuildSpecialChars());

    // The ASCII ones among them, for the fast path that has narrowed a string to ASCII first.
    private static readonly SearchValues<byte> SpecialAsciiBytes = SearchValues.Create(BuildSpecialAsciiBytes());

    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    /// <summary>Writes <paramref name="value"/> as a JSON string literal, quotes included.</summary>
    public static void WriteString(PooledBufferWriter output, ReadOnlySpan<char> value)
    {
        Span<byte> span = output.GetSpan(MaxStringBytes(value.Length));
        int written = WriteString(span, value);
        output.Advance(written);
    }

    /// <summary>
    /// The most bytes <see cref="WriteString(Span{byte}, ReadOnlySpan{char})"/> writes for <paramref name="length"/>
    /// chars: every char escaped as <c>\u00XX</c> (6 bytes) plus the two quotes (a surrogate pair is 2 chars for 4 bytes).
    /// </summary>
    public static int MaxStringBytes(int length) => checked((length * 6) + 2);

    /// <summary>The most bytes <see cref="WriteValue(Span{byte}, in FlagValue)"/> writes for <paramref name="value"/>.</summary>
    public static int MaxValueBytes(in FlagValue value) => value.Kind switch
    {
        FlagValueKind.Null or FlagValueKind.Boolean => 5,
        FlagValueKind.Integer => MaxLongChars,
        FlagValueKind.Double => MaxDoubleChars,
        FlagValueKind.String => MaxStringBytes(value.AsString().Length),
        FlagValueKind.Array => MaxArrayBytes(value.AsArray()),
        _ => MaxObjectBytes(value.AsObject()),
    };

    /// <summary>The most bytes <see cref="WriteObject(Span{byte}, FlagObject)"/> writes for <paramref name="map"/>.</summary>
    public static int MaxObjectBytes(FlagObject map)
    {
        if (map.MaxJsonBytes > 0)
        {
            return map.MaxJsonBytes;
        }

        int max = 2;
        foreach (KeyValuePair<string, FlagValue> property in map.Properties)
        {
            max = checked(max + MaxStringBytes(property.Key.Length) + 2 + MaxValueBytes(property.Value));
        }

        map.MaxJsonBytes = max;
        return max;
    }

    private static int MaxArrayBytes(ReadOnlySpan<FlagValue> items)
    {
        int max = 2;
        foreach (FlagValue item in items)
        {
            max = checked(max + 1 + MaxValueBytes(item));
        }

        return max;
    }

    /// <summary>Writes <paramref name="value"/> as compact JSON: objects with sorted keys, numbers as Go writes float64.</summary>
    public static void WriteValue(PooledBufferWriter output, in FlagValue value)
    {
        Span<byte> span = output.GetSpan(MaxValueBytes(value));
        output.Advance(WriteValue(span, value));
    }

    /// <summary>Writes <paramref name="map"/> as a compact JSON object, keys in Go's sorted order.</summary>
    public static void WriteObject(PooledBufferWriter output, FlagObject map)
    {
        Span<byte> span = output.GetSpan(MaxObjectBytes(map));
        output.Advance(WriteObject(span, map));
    }

    /// <summary>
    /// Writes <paramref name="value"/> into <paramref name="destination"/>, which holds at least
    /// <see cref="MaxValueBytes"/> bytes; returns the bytes written.
    /// </summary>
    public static int WriteValue(Span<byte> destination, in FlagValue value)
    {
        switch (value.Kind)
        {
            case FlagValueKind.Null:
                "null"u8.CopyTo(destination);
                return 4;
            case FlagValueKind.Boolean:
                return Literal(destination, value.AsBoolean() ? "true"u8 : "false"u8);
            case FlagValueKind.Integer:
                value.AsInteger().TryFormat(destination, out int integerLength, default, CultureInfo.InvariantCulture);
                return integerLength;
            case FlagValueKind.Double:
                return FormatDouble(destination, value.AsDouble());
            case FlagValueKind.String:
                return WriteString(destination, value.AsString());
            case FlagValueKind.Array:
                int position = 0;
                destination[position++] = (byte)'[';
                ReadOnlySpan<FlagValue> items = value.AsArray();
                for (int i = 0; i < items.Length; i++)
                {
                    if (i > 0)
                    {
                        destination[position++] = (byte)',';
                    }

                    position += WriteValue(destination[position..], items[i]);
                }

                destination[position++] = (byte)']';
                return position;
            default:
                return WriteObject(destination, value.AsObject());
        }
    }

    /// <summary>
    /// Writes <paramref name="map"/> into <paramref name="destination"/>, which holds at least
    /// <see cref="MaxObjectBytes"/> bytes; returns the bytes written.
    /// </summary>
    public static int WriteObject(Span<byte> destination, FlagObject map)
    {
        int position = 0;
        destination[position++] = (byte)'{';
        bool first = true;
        foreach (KeyValuePair<string, FlagValue> property in map.Properties)
        {
            if (!first)
            {
                destination[position++] = (byte)',';
            }

            first = false;
            position += WriteString(destination[position..], property.Key);
            destination[position++] = (byte)':';
            position += WriteValue(destination[position..], property.Value);
        }

        destination[position++] = (byte)'}';
        return position;
    }

    /// <summary>Copies <paramref name="literal"/> to the start of <paramref name="destination"/>; returns its length.</summary>
    public static int Literal(Span<byte> destination, ReadOnlySpan<byte> literal)
    {
        literal.CopyTo(destination);
        return literal.Length;
    }

    /// <summary>Writes a whole number in invariant culture.</summary>
    public static void WriteInteger(PooledBufferWriter output, long value)
    {
        Span<byte> span = output.GetSpan(MaxLongChars);
        value.TryFormat(span, out int written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    /// <summary>Writes a float64 as Go's encoding/json does.</summary>
    public static void WriteDouble(PooledBufferWriter output, double value)
    {
        // Fixed notation of 1e21 - ε needs 22 digits; 1e-6 needs 8 chars: a little more than MaxDoubleChars is never needed.
        Span<byte> span = output.GetSpan(MaxDoubleChars);
        output.Advance(FormatDouble(span, value));
    }

    /// <summary>Formats a float64 as Go's encoding/json does into <paramref name="destination"/> (at least 32 bytes).</summary>
    internal static int FormatDouble(Span<byte> destination, double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "JSON numbers must be finite.");
        }

        // "R" gives the shortest round-trip digits; re-lay them out in Go's notation.
        Span<byte> shortest = stackalloc byte[MaxDoubleChars];
        value.TryFormat(shortest, out int length, "R", CultureInfo.InvariantCulture);
        ReadOnlySpan<byte> text = shortest[..length];

        int position = 0;
        if (text[0] == (byte)'-')
        {
            destination[position++] = (byte)'-';
            text = text[1..];
        }

        // Split into significant digits and a decimal exponent: value = 0.d1d2d3... × 10^pointPosition.
        int exponentIndex = text.IndexOf((byte)'E');
        int exponent = 0;
        ReadOnlySpan<byte> mantissa = text;
        if (exponentIndex >= 0)
        {
            exponent = int.Parse(text[(exponentIndex + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = text[..exponentIndex];
        }

        Span<byte> digits = stackalloc byte[MaxDoubleChars];
        int digitCount = 0;
        int pointPosition = -1;
        foreach (byte b in mantissa)
        {
            if (b == (byte)'.')
            {
                pointPosition = digitCount;
            }
            else
            {
                digits[digitCount++] = b;
            }
        }

        if (pointPosition < 0)
        {
            pointPosition = digitCount;
        }

        pointPosition += exponent;

        // Strip leading zeros (e.g. "0.001") and trailing zeros (e.g. "100" from integers).
        int start = 0;
        while (start < digitCount - 1 && digits[start] == (byte)'0')
        {
            start++;
            pointPosition--;
        }

        int end = digitCount;
        while (end > start + 1 && digits[end - 1] == (byte)'0')
        {
            end--;
        }

        ReadOnlySpan<byte> significant = digits[start..end];
        if (significant.Length == 1 && significant[0] == (byte)'0')
        {
            destination[position++] = (byte)'0';
            return position;
        }

        double magnitude = Math.Abs(value);
        if (magnitude < 1e-6 || magnitude >= 1e21)
        {
            // Go: strconv 'e' with shortest digits, exponent at least two digits, then "e-07" cleaned to "e-7".
            destination[position++] = significant[0];
            if (significant.Length > 1)
            {
                destination[position++] = (byte)'.';
                significant[1..].CopyTo(destination[position..]);
                position += significant.Length - 1;
            }

            int scientificExponent = pointPosition - 1;
            destination[position++] = (byte)'e';
            destination[position++] = scientificExponent < 0 ? (byte)'-' : (byte)'+';
            int absolute = Math.Abs(scientificExponent);
            if (absolute < 10 && scientificExponent > 0)
            {
                destination[position++] = (byte)'0';
            }

            absolute.TryFormat(destination[position..], out int exponentLength, default, CultureInfo.InvariantCulture);
            return position + exponentLength;
        }

        if (pointPosition <= 0)
        {
            destination[position++] = (byte)'0';
            destination[position++] = (byte)'.';
            destination.Slice(position, -pointPosition).Fill((byte)'0');
            position += -pointPosition;
            significant.CopyTo(destination[position..]);
            return position + significant.Length;
        }

        if (pointPosition >= significant.Length)
        {
            significant.CopyTo(destination[position..]);
            position += significant.Length;
            destination.Slice(position, pointPosition - significant.Length).Fill((byte)'0');
            return position + pointPosition - significant.Length;
        }

        significant[..pointPosition].CopyTo(destination[position..]);
        position += pointPosition;
        destination[position++] = (byte)'.';
        significant[pointPosition..].CopyTo(destination[position..]);
        return position + significant.Length - pointPosition;
    }

    /// <summary>
    /// Writes <paramref name="value"/> as a JSON string literal into <paramref name="destination"/>, which holds at
    /// least <see cref="MaxStringBytes"/> bytes; returns the bytes written.
    /// </summary>
    public static int WriteString(Span<byte> destination, ReadOnlySpan<char> value)
    {
        // Most strings (keys, variations, UUIDs) are plain ASCII: one vectorised narrowing, one vectorised search.
        if (Ascii.FromUtf16(value, destination[1..], out int narrowed) == OperationStatus.Done
            && destination.Slice(1, narrowed).IndexOfAny(SpecialAsciiBytes) < 0)
        {
            destination[0] = (byte)'"';
            destination[narrowed + 1] = (byte)'"';
            return narrowed + 2;
        }

        return WriteEscapedString(destination, value);
    }

    private static int WriteEscapedString(Span<byte> destination, ReadOnlySpan<char> value)
    {
        int position = 0;
        destination[position++] = (byte)'"';
        while (!value.IsEmpty)
        {
            int special = value.IndexOfAny(SpecialChars);
            ReadOnlySpan<char> plain = special < 0 ? value : value[..special];
            if (!plain.IsEmpty)
            {
                // The plain run holds no surrogates, so transcoding cannot fail or substitute.
                position += Encoding.UTF8.GetBytes(plain, destination[position..]);
            }

            if (special < 0)
            {
                break;
            }

            char c = value[special];
            int consumed = 1;
            if (char.IsHighSurrogate(c) && special + 1 < value.Length && char.IsLowSurrogate(value[special + 1]))
            {
                position += Encoding.UTF8.GetBytes(value.Slice(special, 2), destination[position..]);
                consumed = 2;
            }
            else
            {
                position += WriteEscape(destination[position..], c);
            }

            value = value[(special + consumed)..];
        }

        destination[position++] = (byte)'"';
        return position;
    }

    private static int WriteEscape(Span<byte> destination, char c)
    {
        destination[0] = (byte)'\\';
        byte shortEscape = c switch
        {
            '"' => (byte)'"',
            '\\' => (byte)'\\',
            '\n' => (byte)'n',
            '\r' => (byte)'r',
            '\t' => (byte)'t',
            '\b' => (byte)'b',
            '\f' => (byte)'f',
            _ => 0,
        };
        if (shortEscape != 0)
        {
            destination[1] = shortEscape;
            return 2;
        }

        int code = char.IsSurrogate(c) ? 0xFFFD : c; // a lone surrogate is invalid text: Go writes \ufffd
        destination[1] = (byte)'u';
        destination[2] = HexDigits[(code >> 12) & 0xF];
        destination[3] = HexDigits[(code >> 8) & 0xF];
        destination[4] = HexDigits[(code >> 4) & 0xF];
        destination[5] = HexDigits[code & 0xF];
        return 6;
    }


    private static byte[] BuildSpecialAsciiBytes() => [.. BuildSpecialChars().Where(c => c < 0x80).Select(c => (byte)c)];

    private static string BuildSpecialChars()
    {
        var chars = new StringBuilder();
        for (char c = '\0'; c < ' '; c++)
        {
            chars.Append(c);
        }

        chars.Append("\"\\<>&\u2028\u2029");
        for (int c = 0xD800; c <= 0xDFFF; c++)
        {
            chars.Append((char)c);
        }

        return chars.ToString();
    }
}

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FlagExport.Json;

/// <summary>
/// Strings and property names of JSON text as go-feature-flag's Go decoder reads them: invalid UTF-8 and lone UTF-16
/// surrogate escapes (<c>"\ud800"</c>) become U+FFFD instead of failing.
/// </summary>
internal static class JsonText
{
    /// <summary>
    /// The string of the current <see cref="JsonTokenType.String"/> or <see cref="JsonTokenType.PropertyName"/> token;
    /// unescaped short ASCII values come from <paramref name="cache"/> when one is given.
    /// </summary>
    public static string GetString(ref Utf8JsonReader reader, Utf8StringCache? cache)
    {
        if (!reader.ValueIsEscaped)
        {
            if (!reader.HasValueSequence)
            {
                return cache is null ? Encoding.UTF8.GetString(reader.ValueSpan) : cache.GetString(reader.ValueSpan);
            }

            return Encoding.UTF8.GetString(reader.ValueSequence);
        }

        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to unescape a lone surrogate or to transcode invalid UTF-8; Go decodes both as U+FFFD.
            byte[] raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
            return ReplaceLoneSurrogates(Unescape(raw));
        }
    }

    /// <summary>
    /// Whether the current string or property name is exactly <paramref name="literal"/> (ASCII), after unescaping;
    /// unlike <see cref="Utf8JsonReader.ValueTextEquals(ReadOnlySpan{byte})"/> it does not throw on a lone surrogate
    /// escape, which decodes to U+FFFD and so never equals an ASCII literal.
    /// </summary>
    public static bool TextEquals(ref Utf8JsonReader reader, ReadOnlySpan<byte> literal)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueTextEquals(literal);
        }

        try
        {
            return reader.ValueTextEquals(literal);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Replaces each surrogate that is not part of a pair with U+FFFD, as Go's JSON decoder does.</summary>
    public static string ReplaceLoneSurrogates(string text)
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
    /// Decodes the escapes of a JSON string's raw UTF-8 content (without its quotes), keeping lone surrogates and
    /// replacing invalid UTF-8; used only for the strings System.Text.Json will not unescape. The reader has already
    /// checked that the escapes are well formed.
    /// </summary>
    public static string Unescape(ReadOnlySpan<byte> raw)
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

    /// <summary>A short description of a value's type for error messages: <c>a string</c>, <c>null</c>, …</summary>
    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => "nothing",
    };
}

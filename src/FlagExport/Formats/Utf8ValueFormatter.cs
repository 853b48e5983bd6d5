using System.Text;
using System.Buffers;
using System.Globalization;
using System.Text.Unicode;

namespace FlagExport.Formats;

/// <summary>
/// Writes event fields as text (not JSON) as UTF-8 through a <see cref="Utf8Cursor"/>, without allocating: what a CSV
/// template prints for each field.
/// </summary>
/// <remarks>
/// Strings are written raw, without quoting or escaping: go-feature-flag's CSV template does the same, and the user's
/// template decides the separators. Invalid UTF-16 (a lone surrogate) becomes U+FFFD, as in the JSON output.
/// </remarks>
internal static class Utf8ValueFormatter
{
    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>Writes <paramref name="value"/> as raw UTF-8.</summary>
    public static void WriteString(ref Utf8Cursor output, ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return;
        }

        Span<byte> destination = output.Reserve(checked(value.Length * 3));

        // Most values are ASCII: a plain narrowing is cheaper than the UTF-8 transcoder, which then takes over where
        // the text is not (it starts again from the first char, as nothing was advanced).
        if (Ascii.FromUtf16(value, destination, out int narrowed) == OperationStatus.Done)
        {
            output.Advance(narrowed);
            return;
        }

        OperationStatus status = Utf8.FromUtf16(value, destination, out _, out int written, replaceInvalidSequences: true);
        System.Diagnostics.Debug.Assert(status == OperationStatus.Done, "Three bytes per UTF-16 unit always suffice.");
        output.Advance(written);
    }

    /// <summary>Writes <c>true</c> or <c>false</c>.</summary>
    public static void WriteBoolean(ref Utf8Cursor output, bool value) => output.Write(value ? "true"u8 : "false"u8);

    /// <summary>Writes an integer in invariant culture: digits with a leading minus, no separators.</summary>
    public static void WriteInt64(ref Utf8Cursor output, long value)
    {
        Span<byte> destination = output.Reserve(20);
        value.TryFormat(destination, out int written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    /// <summary>
    /// Writes Unix seconds as RFC 3339 in UTC, for example <c>2021-04-09T12:15:47Z</c>; nothing for a date outside
    /// years 1 to 9999, which RFC 3339 cannot write.
    /// </summary>
    public static void WriteRfc3339(ref Utf8Cursor output, long unixSeconds)
    {
        if (unixSeconds < MinUnixSeconds || unixSeconds > MaxUnixSeconds)
        {
            return;
        }

        DateTime utc = DateTime.UnixEpoch.AddSeconds(unixSeconds);
        Span<byte> destination = output.Reserve(20);
        utc.TryFormat(destination, out int written, "s", CultureInfo.InvariantCulture);
        destination[written++] = (byte)'Z';
        output.Advance(written);
    }

    /// <summary>
    /// Writes a flag value as a template prints it: null as nothing, booleans as <c>true</c>/<c>false</c>, integers
    /// in invariant culture, strings raw, and floating-point numbers, arrays and objects as compact JSON, as the JSON
    /// lines output writes them.
    /// </summary>
    /// <remarks>
    /// Go's template prints a float64 with <c>%v</c> (<c>1e+06</c> for a million, <c>1e-05</c>) and arrays and maps in
    /// Go syntax (<c>[a b]</c>, <c>map[k:v]</c>). FlagExport writes the JSON forms instead, identical to the JSON lines
    /// output, which a CSV reader can parse back: <c>1000000</c>, <c>0.00001</c>, an exponent only from 1e21 or below
    /// 1e-6 (<c>1e+21</c>, <c>1e-7</c>), <c>["a","b"]</c>, <c>{"k":"v"}</c>.
    /// </remarks>
    public static void WriteValue(ref Utf8Cursor output, in FlagValue value)
    {
        switch (value.Kind)
        {
            case FlagValueKind.Null:
                return;
            case FlagValueKind.Boolean:
                WriteBoolean(ref output, value.AsBoolean());
                return;
            case FlagValueKind.Integer:
                WriteInt64(ref output, value.AsInteger());
                return;
            case FlagValueKind.String:
                WriteString(ref output, value.AsString());
                return;
            default:
                GoJson.WriteValue(output.Commit(), value);
                return;
        }
    }

    /// <summary>Writes an object as compact JSON (<c>{}</c> when empty), or nothing when it is <see langword="null"/>.</summary>
    public static void WriteObject(ref Utf8Cursor output, FlagObject? value)
    {
        if (value is not null)
        {
            GoJson.WriteValue(output.Commit(), FlagValue.FromObject(value));
        }
    }
}

using System.Text;
using System.Text.Unicode;

namespace FlagExport.Collector.Ingestion;

/// <summary>
/// Replaces invalid UTF-8 in a body that arrives in pieces, as Go's decoder does and exactly as decoding the whole body
/// with <see cref="Encoding.UTF8"/> would: one U+FFFD per maximal invalid subsequence (Go may write one per byte).
/// System.Text.Json would refuse the strings holding such bytes, or report another byte in its messages.
/// </summary>
internal static class Utf8Sanitizer
{
    /// <summary>
    /// How much of <paramref name="data"/> can be handed on: all of it, less a sequence cut short at its end that the next
    /// bytes may complete (unless <paramref name="isFinal"/>).
    /// </summary>
    /// <param name="data">Bytes not checked yet.</param>
    /// <param name="isFinal">Whether no bytes follow.</param>
    /// <param name="replaced">
    /// <see langword="null"/> when that prefix is valid UTF-8 (the common case, checked without copying); otherwise the
    /// prefix with its invalid sequences replaced, to be put in its place.
    /// </param>
    /// <returns>The length of the prefix of <paramref name="data"/> that was checked.</returns>
    public static int Check(ReadOnlySpan<byte> data, bool isFinal, out byte[]? replaced)
    {
        int complete = isFinal ? data.Length : data.Length - IncompleteTail(data);
        ReadOnlySpan<byte> prefix = data[..complete];
        replaced = Utf8.IsValid(prefix) ? null : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(prefix));
        return complete;
    }

    /// <summary>The length of a multi-byte sequence started but not finished at the end of <paramref name="data"/>.</summary>
    private static int IncompleteTail(ReadOnlySpan<byte> data)
    {
        for (int back = 1; back <= Math.Min(3, data.Length); back++)
        {
            byte b = data[^back];
            if (b < 0x80)
            {
                return 0; // ASCII: nothing is cut short
            }

            if (b >= 0xC0)
            {
                int length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                return back < length ? back : 0;
            }
        }

        return 0; // continuation bytes only: complete, or invalid whatever follows
    }
}

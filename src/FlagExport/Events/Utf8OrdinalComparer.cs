namespace FlagExport;

/// <summary>
/// Orders strings by their UTF-8 bytes, as Go sorts map keys, without encoding them.
/// </summary>
/// <remarks>
/// UTF-16 ordinal order equals UTF-8 byte order except that surrogates (U+D800–U+DFFF, the code points above U+FFFF)
/// must sort after U+E000–U+FFFF; this comparer fixes exactly that case.
/// </remarks>
internal sealed class Utf8OrdinalComparer : IComparer<string>
{
    public static readonly Utf8OrdinalComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        int length = Math.Min(x.Length, y.Length);
        for (int i = 0; i < length; i++)
        {
            char a = x[i], b = y[i];
            if (a != b)
            {
                bool aSurrogate = char.IsSurrogate(a), bSurrogate = char.IsSurrogate(b);
                if (aSurrogate != bSurrogate && (a >= '\uE000' || b >= '\uE000'))
                {
                    return aSurrogate ? 1 : -1;
                }

                return a - b;
            }
        }

        return x.Length - y.Length;
    }
}

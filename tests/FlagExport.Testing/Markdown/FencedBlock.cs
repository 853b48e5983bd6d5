namespace FlagExport.Testing.Markdown;

/// <summary>
/// One fenced code block of a Markdown file: where it opens, its info string and its text, with the indentation of its
/// fence removed (a block inside a list item reads as written at the margin).
/// </summary>
/// <param name="File">The Markdown file, relative to the repository root, with <c>/</c> separators.</param>
/// <param name="Line">The 1-based line of the opening fence.</param>
/// <param name="Info">The info string after the opening fence, trimmed: the language, then any marker words.</param>
/// <param name="Body">The lines between the fences, each ending with a newline.</param>
/// <param name="Section">The index of the heading the block is under (0 before the first heading).</param>
public sealed record FencedBlock(string File, int Line, string Info, string Body, int Section)
{
    /// <summary>The first word of the info string, lower-cased (<c>csharp</c>, <c>yaml</c>, …), or empty.</summary>
    public string Language => Words.Length == 0 ? "" : Words[0].ToLowerInvariant();

    /// <summary>The words of the info string after the language.</summary>
    public IReadOnlyList<string> Markers => Words.Length <= 1 ? [] : Words[1..];

    /// <summary><c>file:line</c>, as a test case's name and in every failure message.</summary>
    public string Location => $"{File}:{Line.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>The 1-based line in <see cref="File"/> of the block's 0-based line <paramref name="bodyLine"/>.</summary>
    public int FileLine(int bodyLine) => Line + 1 + bodyLine;

    private string[] Words => Info.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
}

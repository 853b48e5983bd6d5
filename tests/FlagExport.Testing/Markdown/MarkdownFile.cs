using System.Text.RegularExpressions;

namespace FlagExport.Testing.Markdown;

/// <summary>
/// A Markdown file of the repository's documentation, read as its fenced code blocks and the headings they sit under.
/// The documentation is <c>README.md</c> and every <c>docs/**/*.md</c>.
/// </summary>
public sealed partial class MarkdownFile
{
    private MarkdownFile(string path, IReadOnlyList<FencedBlock> blocks)
    {
        Path = path;
        Blocks = blocks;
    }

    /// <summary>The file, relative to the repository root, with <c>/</c> separators.</summary>
    public string Path { get; }

    /// <summary>Every fenced block, in order.</summary>
    public IReadOnlyList<FencedBlock> Blocks { get; }

    /// <summary>README.md and every Markdown file under docs/, in a stable order.</summary>
    public static IReadOnlyList<MarkdownFile> Documentation(string repositoryRoot)
    {
        string docs = System.IO.Path.Combine(repositoryRoot, "docs");
        IEnumerable<string> files = Directory.Exists(docs)
            ? Directory.EnumerateFiles(docs, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : [];
        return [.. new[] { System.IO.Path.Combine(repositoryRoot, "README.md") }.Concat(files).Select(file => Load(repositoryRoot, file))];
    }

    /// <summary>Reads <paramref name="file"/>; its <see cref="Path"/> is relative to <paramref name="repositoryRoot"/>.</summary>
    public static MarkdownFile Load(string repositoryRoot, string file) =>
        Parse(System.IO.Path.GetRelativePath(repositoryRoot, file).Replace('\\', '/'), File.ReadAllText(file));

    /// <summary>Reads <paramref name="text"/> as the Markdown file <paramref name="relative"/>.</summary>
    public static MarkdownFile Parse(string relative, string text)
    {
        string[] lines = text.ReplaceLineEndings("\n").Split('\n');
        var blocks = new List<FencedBlock>();
        int section = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            if (Heading().IsMatch(lines[i]))
            {
                section++;
                continue;
            }

            Match open = OpeningFence().Match(lines[i]);
            if (!open.Success)
            {
                continue;
            }

            int indent = open.Groups["indent"].Length;
            string fence = open.Groups["fence"].Value;
            var body = new System.Text.StringBuilder();
            int end = i + 1;
            while (end < lines.Length && !IsClosing(lines[end], fence))
            {
                string line = lines[end];
                int strip = Math.Min(indent, line.Length - line.TrimStart(' ').Length);
                _ = body.Append(line, strip, line.Length - strip).Append('\n');
                end++;
            }

            blocks.Add(new FencedBlock(relative, i + 1, open.Groups["info"].Value.Trim(), body.ToString(), section));
            i = end; // an unclosed block runs to the end of the file, as CommonMark reads it
        }

        return new MarkdownFile(relative, blocks);
    }

    /// <summary>The blocks before <paramref name="block"/> under the same heading, nearest last.</summary>
    public IEnumerable<FencedBlock> BlocksAbove(FencedBlock block) =>
        Blocks.Where(b => b.Section == block.Section && b.Line < block.Line);

    /// <summary>The block that follows <paramref name="block"/>, or null when it is the last.</summary>
    public FencedBlock? BlockAfter(FencedBlock block) => Blocks.FirstOrDefault(b => b.Line > block.Line);

    private static bool IsClosing(string line, string fence)
    {
        string trimmed = line.Trim();
        return trimmed.Length >= fence.Length && trimmed.All(c => c == fence[0]);
    }

    [GeneratedRegex(@"^ {0,3}#{1,6}(\s|$)")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^(?<indent> *)(?<fence>`{3,}|~{3,})(?<info>[^`]*)$")]
    private static partial Regex OpeningFence();
}

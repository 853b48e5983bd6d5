using System.Text.RegularExpressions;
using FlagExport.Collector.Tests.Support;
using FlagExport.Testing.Markdown;

namespace FlagExport.Collector.Tests.Docs;

/// <summary>
/// The README's first demo, read so that the process tests run its commands and expect its output: the command that
/// starts the collector, the <c>curl</c> that posts events and its answer, and the file <c>cat exports/*.json</c> shows.
/// The blocks are found by what they hold, wherever the README puts them: the first bash block with a
/// <c>dotnet run --project</c> line, the first with a <c>curl</c> to <c>/v1/data/collector</c>, the first with
/// <c>cat exports/*.json</c>; each output is the block right after its command.
/// </summary>
internal sealed partial class ReadmeQuickStart
{
    private static readonly Lazy<ReadmeQuickStart> Shared = new(Load);

    private ReadmeQuickStart(string[] runArguments, string curlUrl, string curlBody, string curlAnswer, string exportsPattern, string exportedFile)
    {
        RunArguments = runArguments;
        CurlUrl = curlUrl;
        CurlBody = curlBody;
        CurlAnswer = curlAnswer;
        ExportsPattern = exportsPattern;
        ExportedFile = exportedFile;
    }

    /// <summary>The README, read once.</summary>
    public static ReadmeQuickStart Instance => Shared.Value;

    /// <summary>The arguments of the start command after <c>dotnet</c>: <c>run --project src/FlagExport.Collector</c>.</summary>
    public string[] RunArguments { get; }

    /// <summary>The address the <c>curl</c> posts to.</summary>
    public string CurlUrl { get; }

    /// <summary>The body the <c>curl</c> posts (its <c>-d '…'</c>).</summary>
    public string CurlBody { get; }

    /// <summary>The answer shown after the <c>curl</c>, without its final newline (curl adds none).</summary>
    public string CurlAnswer { get; }

    /// <summary>The folder and file pattern <c>cat</c> reads: <c>exports/*.json</c>.</summary>
    public string ExportsPattern { get; }

    /// <summary>The file's text as shown after <c>cat</c>, each line ending with a newline.</summary>
    public string ExportedFile { get; }

    private static ReadmeQuickStart Load()
    {
        MarkdownFile readme = MarkdownFile.Load(RepositoryPaths.Root, Path.Combine(RepositoryPaths.Root, "README.md"));
        FencedBlock[] shell = [.. readme.Blocks.Where(b => b.Language is "bash" or "sh" or "shell")];

        Match run = shell.Select(b => RunCommand().Match(b.Body)).FirstOrDefault(m => m.Success)
            ?? throw new InvalidOperationException("README.md has no bash block with a 'dotnet run --project …' line.");

        FencedBlock curlBlock = shell.FirstOrDefault(b => Curl().IsMatch(b.Body))
            ?? throw new InvalidOperationException("README.md has no bash block with a curl to /v1/data/collector.");
        Match curl = Curl().Match(curlBlock.Body);
        Match body = CurlData().Match(curlBlock.Body);
        Assert.True(body.Success, $"{curlBlock.Location}: the curl has no -d '…' body.");

        FencedBlock catBlock = shell.FirstOrDefault(b => Cat().IsMatch(b.Body))
            ?? throw new InvalidOperationException("README.md has no bash block with 'cat exports/*.json'.");

        return new ReadmeQuickStart(
            run.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            curl.Groups["url"].Value,
            body.Groups["body"].Value,
            Output(readme, curlBlock).TrimEnd('\n'),
            Cat().Match(catBlock.Body).Groups["pattern"].Value,
            Output(readme, catBlock));
    }

    // The block right after a command, which shows its output: a block without a language.
    private static string Output(MarkdownFile readme, FencedBlock command)
    {
        FencedBlock? output = readme.BlockAfter(command);
        Assert.True(output is { Info: "" }, $"{command.Location}: the command is not followed by a ``` block of its output.");
        return output.Body;
    }

    [GeneratedRegex(@"^dotnet (?<args>run --project [^\n#]+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex RunCommand();

    [GeneratedRegex(@"\bcurl\b[^\n]*?(?<url>https?://\S+/v1/data/collector)\b")]
    private static partial Regex Curl();

    [GeneratedRegex(@"\s-d '(?<body>[^']*)'")]
    private static partial Regex CurlData();

    [GeneratedRegex(@"^cat (?<pattern>exports/\*\.json)\s*$", RegexOptions.Multiline)]
    private static partial Regex Cat();
}

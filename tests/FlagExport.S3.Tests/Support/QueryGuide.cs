using System.Text.Json;
using System.Text.RegularExpressions;

namespace FlagExport.S3.Tests.Support;

/// <summary>
/// The query guide, docs/querying.md, read so that its configuration and queries are the ones the tests run:
/// fenced blocks are found by their info string (<c>json exporters</c>, <c>sql duckdb:name</c>, <c>sql athena:name</c>).
/// </summary>
internal sealed partial class QueryGuide
{
    public const string Heading = "# Querying the exports";

    private QueryGuide(string section, List<(string Info, string Body)> blocks)
    {
        Section = section;
        Blocks = blocks;
    }

    /// <summary>The guide's text.</summary>
    public string Section { get; }

    /// <summary>Every fenced block of the guide: its info string (after the backticks) and its body.</summary>
    public List<(string Info, string Body)> Blocks { get; }

    /// <summary>The names of the <c>sql duckdb:name</c> blocks, in order.</summary>
    public IEnumerable<string> DuckDbQueryNames =>
        Blocks.Where(b => b.Info.StartsWith("sql duckdb:", StringComparison.Ordinal)).Select(b => b.Info["sql duckdb:".Length..]);

    public static QueryGuide Load()
    {
        string section = File.ReadAllText(Path.Combine(RepositoryFiles.Root(), "docs", "querying.md")).ReplaceLineEndings("\n");
        Assert.True(section.StartsWith(Heading + "\n", StringComparison.Ordinal), $"docs/querying.md does not start with '{Heading}'");
        return new QueryGuide(section, [.. Fence().Matches(section).Select(m => (m.Groups["info"].Value.Trim(), m.Groups["body"].Value))]);
    }

    /// <summary>The body of the one block whose info string is <paramref name="info"/>.</summary>
    public string Block(string info)
    {
        string[] bodies = [.. Blocks.Where(b => b.Info == info).Select(b => b.Body)];
        Assert.True(bodies.Length == 1, $"docs/querying.md section '{Heading}' has {bodies.Length} blocks '```{info}', not 1");
        return bodies[0];
    }

    /// <summary>The option <paramref name="option"/> of exporter <paramref name="exporter"/> in the <c>json exporters</c> block, or null.</summary>
    public string? ExporterOption(string exporter, string option)
    {
        using var document = JsonDocument.Parse(Block("json exporters"));
        JsonElement section = document.RootElement.GetProperty("FlagExport").GetProperty("Exporters").GetProperty(exporter);
        return section.TryGetProperty(option, out JsonElement value) ? value.GetString() : null;
    }

    /// <summary>The bucket, key prefix and local folder of the <c>aws s3 sync s3://bucket/prefix folder</c> command.</summary>
    public (string Bucket, string Prefix, string Folder) Sync()
    {
        Match sync = SyncCommand().Match(Block("bash"));
        Assert.True(sync.Success, $"docs/querying.md section '{Heading}' has no 'aws s3 sync s3://bucket/prefix/ folder/' command");
        return (sync.Groups["bucket"].Value, sync.Groups["prefix"].Value, sync.Groups["folder"].Value);
    }

    [GeneratedRegex(@"^```(?<info>[^\n`]+)\n(?<body>.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();

    [GeneratedRegex(@"aws s3 sync s3://(?<bucket>[^/\s]+)/(?<prefix>\S*) (?<folder>\S+)")]
    private static partial Regex SyncCommand();
}

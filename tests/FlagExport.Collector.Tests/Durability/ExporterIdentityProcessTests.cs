using System.Globalization;
using System.Net;
using System.Text.Json;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector process with a durable buffer and two file exporters, A and B, whose configuration changes between
/// runs while B holds a backlog (B's folder lies under a regular file, so every write fails, until the test replaces the
/// file with a folder). An exporter's cursor follows its name, never its position: reordering changes nothing; removing
/// or renaming an exporter that still owes events stops start-up until its backlog is exported or set aside.
/// </summary>
public sealed class ExporterIdentityProcessTests : IDisposable
{
    private const int Request = 100;

    private readonly TempDirectory _directory = new();
    private readonly HttpClient _client = new();

    public void Dispose()
    {
        _client.Dispose();
        _directory.Dispose();
    }

    private string FolderA => _directory.Combine("a");

    /// <summary>B's folder: under <c>blocked</c>, a regular file while B must fail.</summary>
    private string FolderB => _directory.Combine(Path.Combine("blocked", "b"));

    [Fact]
    public async Task Reorder_WithABacklog_EveryEventReachesItsExporterOnce()
    {
        string[] keys = DurableCollector.Keys("reorder", 0, 3 * Request);
        await RunAsync(Config(Entry(FolderA), Entry(FolderB)), keys, waitForA: keys, blockB: true);

        // Reordered, B writable again: B exports its backlog, A exports nothing twice.
        UnblockB();
        await RunAsync(Config(Entry(FolderB), Entry(FolderA)), [], waitForA: keys, waitForB: keys);

        AssertExactlyOnce(FolderA, keys);
        AssertExactlyOnce(FolderB, keys);
    }

    [Fact]
    public async Task Remove_WithABacklog_Refuses_DropBacklogSetsItAside_ReplayExportsItOnce()
    {
        string[] first = DurableCollector.Keys("first", 0, Request);
        string[] second = DurableCollector.Keys("second", 0, 2 * Request);
        await RunAsync(Config(Entry(FolderA), Entry(FolderB)), first, waitForA: first, waitForB: first);
        await RunAsync(Config(Entry(FolderA), Entry(FolderB)), second, waitForA: [.. first, .. second], blockB: true);

        string nameB = ExporterNames.Derive("file:" + FolderB);
        string refused = await RefusedAsync(Config(Entry(FolderA)));
        Assert.Contains($"holds {second.Length} events not yet exported by exporter '{nameB}'", refused, StringComparison.Ordinal);
        Assert.Contains($"buffer drop-backlog {nameB}", refused, StringComparison.Ordinal);

        // Set aside: every event of the backlog is in the dead letters, and the collector starts again.
        using (CollectorProcess drop = CollectorProcess.Start(_directory.Path, ["buffer", "drop-backlog", nameB, "--config", "collector.yaml"]))
        {
            Assert.True(await drop.WaitForExitAsync() == 0, drop.Output);
            Assert.Contains($"Set aside {second.Length} events of exporter '{nameB}'", drop.Output, StringComparison.Ordinal);
        }

        Assert.Equal(second.Order(StringComparer.Ordinal), DeadLetterKeys().Order(StringComparer.Ordinal));
        await RunAsync(Config(Entry(FolderA)), [], waitForA: [.. first, .. second]);
        AssertExactlyOnce(FolderA, [.. first, .. second]);

        // Replayed through another exporter, C: once each.
        string folderC = _directory.Combine("c");
        await File.WriteAllTextAsync(_directory.Combine("replay.yaml"), $"""
            deadLetterDirectory: ./dead-letter
            exporters:
              - kind: file
                name: c
                outputDir: {folderC}
                format: json
            """, TestContext.Current.CancellationToken);
        using (CollectorProcess replay = CollectorProcess.Start(_directory.Path, ["replay-dead-letters", "--config", "replay.yaml", "--exporter", "c"]))
        {
            Assert.True(await replay.WaitForExitAsync() == 0, replay.Output);
        }

        AssertExactlyOnce(folderC, second);
        Assert.Empty(DeadLetterKeys());
    }

    [Fact]
    public async Task Rename_WithABacklog_Refuses_NamingTheOldNameAndItsBacklog()
    {
        string[] keys = DurableCollector.Keys("rename", 0, 2 * Request);
        await RunAsync(Config(Entry(FolderA), Entry(FolderB, "name: b")), keys, waitForA: keys, blockB: true);

        // Writable again, so that start-up's folder check passes and only the orphaned backlog can stop it.
        UnblockB();
        string refused = await RefusedAsync(Config(Entry(FolderA), Entry(FolderB, "name: b-renamed")));

        Assert.Contains($"holds {keys.Length} events not yet exported by exporter 'b'", refused, StringComparison.Ordinal);
    }

    private static string Entry(string folder, string extra = "") => $"""
          - kind: file
            outputDir: {folder}
            format: json
            flushInterval: 100
            maxEventInMemory: {Request.ToString(CultureInfo.InvariantCulture)}
            shutdownTimeout: 1000
            {extra}
        """;

    private static string Config(params string[] entries) =>
        "bufferDirectory: ./buffer\ndeadLetterDirectory: ./dead-letter\nexporters:\n" + string.Join("\n", entries) + "\n";

    /// <summary>
    /// Puts a regular file where B's folder is (the folder, if any, is moved aside), so that every write of B fails.
    /// Only once the collector runs: start-up refuses an output folder it cannot write.
    /// </summary>
    private void BlockB()
    {
        string blocked = _directory.Combine("blocked");
        if (Directory.Exists(blocked))
        {
            Directory.Move(blocked, _directory.Combine("unblocked-" + Guid.NewGuid().ToString("N")));
        }

        File.WriteAllText(blocked, "a file where B's folder should be");
    }

    private void UnblockB()
    {
        string blocked = _directory.Combine("blocked");
        if (File.Exists(blocked))
        {
            File.Delete(blocked);
        }

        _ = Directory.CreateDirectory(blocked);
    }

    /// <summary>
    /// Starts the collector on <paramref name="config"/> (with B blocked once it listens when <paramref name="blockB"/>),
    /// posts <paramref name="keys"/>, waits until the folders hold the keys given, stops it (exit 0).
    /// </summary>
    private async Task RunAsync(string config, string[] keys, string[] waitForA, string[]? waitForB = null, bool blockB = false)
    {
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), config, TestContext.Current.CancellationToken);
        using CollectorProcess collector = DurableCollector.Start(_directory);
        string address = await collector.WaitUntilListeningAsync();
        if (blockB)
        {
            BlockB();
        }
        foreach (string[] chunk in keys.Chunk(Request))
        {
            using HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, chunk, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await WaitForKeysAsync(FolderA, waitForA, collector);
        if (waitForB is not null)
        {
            await WaitForKeysAsync(FolderB, waitForB, collector);
        }

        collector.Signal("TERM");
        Assert.True(await collector.WaitForExitAsync() == 0, collector.Output);
    }

    /// <summary>Starts the collector on <paramref name="config"/>, expects it to refuse to start (exit 1); returns its output.</summary>
    private async Task<string> RefusedAsync(string config)
    {
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), config, TestContext.Current.CancellationToken);
        using CollectorProcess collector = DurableCollector.Start(_directory);
        Task<int> exited = collector.WaitForExitAsync();
        Task listening = collector.WaitForOutputAsync("FlagExport collector listening on");
        if (await Task.WhenAny(exited, listening) != exited)
        {
            Assert.Fail($"The collector started; output:{Environment.NewLine}{collector.Output}");
        }

        int exit = await exited;
        Assert.True(exit == 1, $"exit code {exit}; output:{Environment.NewLine}{collector.Output}");
        return collector.Output;
    }

    private static async Task WaitForKeysAsync(string folder, string[] expected, CollectorProcess collector) =>
        await DurableCollector.WaitUntilAsync(
            () => Task.FromResult(expected.All(new HashSet<string>(KeysIn(folder), StringComparer.Ordinal).Contains)),
            $"{expected.Length} events in {folder}; output:{Environment.NewLine}{collector.Output}");

    private static void AssertExactlyOnce(string folder, string[] expected)
    {
        List<string> found = KeysIn(folder);
        Assert.Equal(expected.Order(StringComparer.Ordinal), found.Order(StringComparer.Ordinal));
    }

    /// <summary>The user keys of every finished JSON file of <paramref name="folder"/>, repeats kept.</summary>
    private static List<string> KeysIn(string folder) =>
        !Directory.Exists(folder)
            ? []
            : [.. Directory.GetFiles(folder, "*.json").Where(f => !Path.GetFileName(f).StartsWith('.')).SelectMany(ReadUserKeys)];

    private List<string> DeadLetterKeys()
    {
        string folder = _directory.Combine("dead-letter");
        return !Directory.Exists(folder)
            ? []
            : [.. Directory.GetDirectories(folder).Where(d => !Path.GetFileName(d).StartsWith('.')).SelectMany(d => ReadUserKeys(Path.Combine(d, "events.jsonl")))];
    }

    private static IEnumerable<string> ReadUserKeys(string file) =>
        File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("userKey").GetString()!);
}

using System.Net;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector is durable by default: without <c>bufferDirectory</c> it keeps its buffer in <c>./buffer</c> of its
/// working folder (each test's own), <c>""</c> or <c>none</c> from any configuration source is memory mode, start-up and
/// <c>validate</c> say which and where, and a buffer folder that cannot be created or locked stops start-up (exit 1).
/// </summary>
public sealed class DefaultBufferProcessTests : IDisposable
{
    private const string DurableLine = "Durable buffer in ";
    private const string MemoryLine = "Events are held in memory (bufferDirectory is empty or none): a crash loses those not yet written";

    /// <summary>A file exporter that writes only when the collector stops: whatever a crash kills is still unwritten.</summary>
    private const string Exporter = """
        exporters:
          - kind: file
            name: files
            outputDir: ./exports
            flushInterval: 3600000
        """;

    private readonly TempDirectory _directory = new();
    private readonly HttpClient _client = new();

    public void Dispose()
    {
        _client.Dispose();
        _directory.Dispose();
    }

    private string Buffer => _directory.Combine("buffer");

    [Fact]
    public async Task WithoutBufferDirectory_EventsWaitInBuffer_AndAcknowledgedEventsSurviveSigkill_ExportedOnce()
    {
        await WriteConfigAsync(Exporter);
        string[] keys = DurableCollector.Keys("crash", 0, 200);
        using (CollectorProcess crashed = Start())
        {
            string address = await crashed.WaitUntilListeningAsync();
            await crashed.WaitForOutputAsync(DurableLine);
            Assert.Contains($"{DurableLine}{Buffer} (maxBufferBytes 10737418240): a 200 means the events are on disk", crashed.Output, StringComparison.Ordinal);
            Assert.True(Directory.Exists(Buffer), $"No buffer folder in the working folder. Output:{Environment.NewLine}{crashed.Output}");
            foreach (string[] request in keys.Chunk(50))
            {
                using HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, request, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            crashed.Kill();
        }

        Assert.False(Directory.Exists(_directory.Combine("exports")) && Directory.EnumerateFiles(_directory.Combine("exports")).Any(), "Written before the crash: the test shows nothing.");
        using CollectorProcess restarted = Start();
        _ = await restarted.WaitUntilListeningAsync();
        restarted.Signal("TERM");

        Assert.True(await restarted.WaitForExitAsync() == 0, restarted.Output);
        string[] exported = ExportedUserKeys();
        Assert.Equal(keys.Order(StringComparer.Ordinal), exported.Order(StringComparer.Ordinal));
    }

    /// <summary>Memory mode from every configuration source; a value the configuration treats as absent keeps the default.</summary>
    [Theory]
    [InlineData("yaml", "\"\"", false)]
    [InlineData("yaml", "none", false)]
    [InlineData("yaml", "", false)] // a key with no value is an empty string
    [InlineData("yaml", "~", true)] // YAML null: not set
    [InlineData("env", "", false)] // bufferDirectory= (set, empty)
    [InlineData("env-section", "", false)] // FlagExport__BufferDirectory=
    [InlineData("env", "NONE", false)]
    [InlineData("appsettings", "\"\"", false)]
    [InlineData("appsettings", "null", true)] // JSON null: not set
    [InlineData("command-line", "", false)]
    public async Task EmptyOrNone_FromEachSource_IsMemoryMode_AndCreatesNoFolder(string source, string value, bool durable)
    {
        var environment = new Dictionary<string, string>();
        var args = new List<string> { "--config", "collector.yaml", "--urls", "http://127.0.0.1:0" };
        string yaml = Exporter;
        switch (source)
        {
            case "yaml":
                yaml = $"bufferDirectory: {value}\n" + Exporter;
                break;
            case "env":
                environment["bufferDirectory"] = value;
                break;
            case "env-section":
                environment["FlagExport__BufferDirectory"] = value;
                break;
            case "appsettings":
                await File.WriteAllTextAsync(_directory.Combine("appsettings.json"), $$"""{"bufferDirectory": {{value}}}""", TestContext.Current.CancellationToken);
                break;
            default:
                args.AddRange(["--bufferDirectory", value]);
                break;
        }

        await WriteConfigAsync(yaml);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, [.. args], environment);
        string address = await collector.WaitUntilListeningAsync();
        await collector.WaitForOutputAsync(durable ? DurableLine : MemoryLine);
        using (HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, ["one"], TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        collector.Signal("TERM");

        Assert.True(await collector.WaitForExitAsync() == 0, collector.Output);
        Assert.Equal(durable, Directory.Exists(Buffer));
        Assert.DoesNotContain(durable ? MemoryLine : DurableLine, collector.Output, StringComparison.Ordinal);
        Assert.Equal(["one"], ExportedUserKeys());
    }

    [Fact]
    public async Task SecondCollectorOnTheSameBuffer_ExitsOne_NamingTheFolder_AndTheFirstKeepsRunning()
    {
        await WriteConfigAsync(Exporter);
        using CollectorProcess first = Start();
        string address = await first.WaitUntilListeningAsync();

        using (CollectorProcess second = Start())
        {
            Assert.Equal(ExitCodes.StartFailed, await second.WaitForExitAsync());
            Assert.Contains($"bufferDirectory: another process holds the buffer in '{Buffer}'", second.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("listening on", second.Output, StringComparison.Ordinal);
        }

        using (HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, ["after-second"], TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        first.Signal("TERM");
        Assert.True(await first.WaitForExitAsync() == 0, first.Output);
        Assert.Equal(["after-second"], ExportedUserKeys());
    }

    [Fact]
    public async Task BufferFolderThatIsAFile_OrUnderAFile_StopsStartUp_NamingIt()
    {
        await File.WriteAllTextAsync(_directory.Combine("a-file"), "", TestContext.Current.CancellationToken);
        foreach (string folder in new[] { _directory.Combine("a-file"), _directory.Combine("a-file/buffer") })
        {
            await WriteConfigAsync($"bufferDirectory: {folder}\n" + Exporter);
            using CollectorProcess collector = Start();

            Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
            Assert.Contains($"bufferDirectory: the buffer folder '{folder}' cannot be created or written", collector.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("listening on", collector.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task BufferFolderInAReadOnlyParent_StopsStartUp_NamingIt()
    {
        // File modes do not stop root: a read-only mount does.
        using Tmpfs parent = Tmpfs.MountOrSkip(_directory.Combine("read-only"), 1024 * 1024);
        parent.MakeReadOnly();
        await WriteConfigAsync(Exporter);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0", "--bufferDirectory", "read-only/buffer"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains($"bufferDirectory: the buffer folder '{_directory.Combine("read-only/buffer")}' cannot be created or written", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ReportsTheDefaultFolder_WithoutCreatingIt_AndMemoryMode_AndAnUnusableFolder()
    {
        await WriteConfigAsync(Exporter);
        using (CollectorProcess durable = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml"]))
        {
            Assert.True(await durable.WaitForExitAsync() == 0, durable.Output);
            Assert.Contains($"  {DurableLine}{Buffer} (maxBufferBytes 10737418240)", durable.Output, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Buffer), "validate created the buffer folder.");
        }

        using (CollectorProcess memory = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml", "--bufferDirectory", "none"]))
        {
            Assert.True(await memory.WaitForExitAsync() == 0, memory.Output);
            Assert.Contains("  " + MemoryLine, memory.Output, StringComparison.Ordinal);
        }

        await File.WriteAllTextAsync(_directory.Combine("a-file"), "", TestContext.Current.CancellationToken);
        using CollectorProcess unusable = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml", "--bufferDirectory", "a-file/buffer"]);
        Assert.Equal(ExitCodes.StartFailed, await unusable.WaitForExitAsync());
        Assert.Contains($"bufferDirectory: the buffer folder '{_directory.Combine("a-file/buffer")}' cannot be created: '{_directory.Combine("a-file")}' is a file.", unusable.Output, StringComparison.Ordinal);
    }

    private CollectorProcess Start() => CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);

    private Task WriteConfigAsync(string yaml) => File.WriteAllTextAsync(_directory.Combine("collector.yaml"), yaml, TestContext.Current.CancellationToken);

    /// <summary>The user key of every event in the exported files, as often as it was written.</summary>
    private string[] ExportedUserKeys()
    {
        string folder = _directory.Combine("exports");
        return !Directory.Exists(folder) ? [] :
            [.. Directory.GetFiles(folder).Where(f => !Path.GetFileName(f).StartsWith('.'))
                .SelectMany(File.ReadAllLines)
                .Where(line => line.Length > 0)
                .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!)];
    }
}

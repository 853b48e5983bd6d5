using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.RelayProxy;

/// <summary>
/// go-feature-flag's real JS provider posting to a collector process (no durable buffer) whose exporter cannot write for
/// a while, so that its buffer fills: every event the provider collected must be written exactly once. The provider
/// keeps the events of a send that fails and sends them again with its next ones; a collector that answered 200 while
/// dropping them would lose them.
/// </summary>
public sealed class NpmProviderBackPressureTests : IDisposable
{
    // Room for 1,000 events: the 1,600 users overflow it while the exporter is blocked, and what the provider keeps
    // (at most 600) fits once the exporter writes again, so its accumulated send is never larger than the buffer.
    private const int Users = 1_600;
    private const int MaxBufferedEvents = 1_000;

    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    private readonly TempDirectory _directory = new();

    [Fact]
    public async Task JsProvider_IntoAFullBuffer_EveryEvaluationIsWrittenExactlyOnce()
    {
        string nodeModules = await NpmProvider.NodeModulesAsync();
        await using FakeRelayProxy upstream = await FakeRelayProxy.StartAsync();
        upstream.EvalAnswers["bool-flag"] = """{"value":true,"variationType":"enabled","reason":"TARGETING_MATCH","failed":false,"trackEvents":true,"version":"","cacheable":true,"metadata":{}}""";
        string exports = _directory.Combine("exports");
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            relayProxyUrl: {upstream.Url}
            bufferDirectory: ""  # memory mode: the back-pressure of maxBufferedEvents
            exporters:
              - kind: file
                outputDir: ./exports
                flushInterval: 200
                maxEventInMemory: 100
                maxBufferedEvents: {MaxBufferedEvents}
            """, Cancellation);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string address = await collector.WaitUntilListeningAsync();

        // The exporter's folder becomes a file: every export fails (and is retried) until it is a folder again.
        if (Directory.Exists(exports))
        {
            Directory.Delete(exports, recursive: true);
        }

        await File.WriteAllTextAsync(exports, "not a folder", Cancellation);

        using Process node = StartProvider(nodeModules, address);
        Task<string> output = node.StandardOutput.ReadToEndAsync(Cancellation);
        Task<string> error = node.StandardError.ReadToEndAsync(Cancellation);
        await WaitUntilAsync(() => collector.Output.Contains("Refusing requests with 503", StringComparison.Ordinal) || node.HasExited, TimeSpan.FromSeconds(60));
        File.Delete(exports); // the exporter writes again at its next retry; the provider's next sends then fit
        await WaitUntilAsync(() => CountLines(exports) >= Users || node.HasExited, TimeSpan.FromSeconds(60));
        await node.StandardInput.WriteLineAsync("close");
        node.StandardInput.Close();
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancellation))
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(60));
            await node.WaitForExitAsync(deadline.Token);
        }

        collector.Signal("TERM");
        int exitCode = await collector.WaitForExitAsync();

        string report = $"node: {await output} {await error}\ncollector:\n{collector.Output}";
        Assert.True(node.ExitCode == 0, report);
        Assert.Equal(0, exitCode);
        string[] userKeys = [.. ReadLines(exports).Select(line =>
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            return doc.RootElement.GetProperty("userKey").GetString()!;
        })];
        string[] expected = [.. Enumerable.Range(0, Users).Select(i => $"user-{i}")];
        Assert.True(userKeys.Length == Users, $"{userKeys.Length} events written for {Users} users; {Users - userKeys.Distinct().Count()} users missing");
        Assert.Equal(expected.Order(StringComparer.Ordinal), userKeys.Order(StringComparer.Ordinal));
        Assert.Contains("Refusing requests with 503", collector.Output, StringComparison.Ordinal); // the buffer did fill
        using JsonDocument summary = JsonDocument.Parse((await output).Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        Assert.True(summary.RootElement.GetProperty("failedSends").GetInt32() > 0, report);
    }

    public void Dispose() => _directory.Dispose();

    private static Process StartProvider(string nodeModules, string address)
    {
        string script = Path.Combine(Path.GetDirectoryName(NpmProvider.ScriptPath)!, "backpressure.cjs");
        ProcessStartInfo start = NodeProcess.Redirected(new ProcessStartInfo("node")
        {
            WorkingDirectory = Path.GetDirectoryName(script)!,
            RedirectStandardInput = true,
        });
        start.ArgumentList.Add(script);
        start.Environment["NODE_PATH"] = nodeModules;
        start.Environment["ENDPOINT"] = address;
        start.Environment["USERS"] = Users.ToString(CultureInfo.InvariantCulture);
        start.Environment["FLUSH_MS"] = "100";
        return Process.Start(start)!;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition() && stopwatch.Elapsed < timeout)
        {
            await Task.Delay(50, Cancellation);
        }
    }

    private static int CountLines(string folder) => ReadLines(folder).Count();

    private static IEnumerable<string> ReadLines(string folder) =>
        !Directory.Exists(folder) ? []
        : Directory.GetFiles(folder).Where(f => !Path.GetFileName(f).StartsWith('.'))
            .SelectMany(f => File.ReadAllText(f, Encoding.UTF8).Split('\n', StringSplitOptions.RemoveEmptyEntries));
}

using System.Net;
using System.Text;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

/// <summary>
/// The exit codes of the real executable after SIGTERM: 0 when every event was written or kept on disk, 3 when some
/// were lost. The exporter that cannot write has its output folder under a regular file, so every write fails.
/// </summary>
public sealed class ExitCodeProcessTests : IDisposable
{
    private const string TwoEvents = """{"events":[{"kind":"feature","key":"a","value":1},{"kind":"feature","key":"b","value":2}]}""";

    /// <summary>A file exporter whose folder lies under a regular file, so every write fails, and a one-second shutdown.</summary>
    private const string UnwritableExporter = """
        exporters:
          - kind: file
            name: exporter-0
            outputDir: ./not-a-folder/exports
        FlagExport:
          Exporters:
            exporter-0:
              ShutdownTimeout: "00:00:01"
        """;

    private readonly TempDirectory _directory = new();
    private readonly HttpClient _client = new();

    public void Dispose()
    {
        _client.Dispose();
        _directory.Dispose();
    }

    /// <summary>
    /// SIGHUP (the terminal or session went away) and SIGQUIT stop the collector as SIGTERM does: the events held in
    /// memory are written before it exits 0. By default SIGHUP would end the process at once and lose them.
    /// </summary>
    [Theory]
    [InlineData("HUP")]
    [InlineData("QUIT")]
    public async Task OtherStopSignals_StopCleanly_EveryEventWritten_ExitsZero(string signal)
    {
        using CollectorProcess collector = await StartAsync("""
            bufferDirectory: ""
            exporters:
              - kind: file
                outputDir: ./exports
            """);

        collector.Signal(signal);

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Equal(2, File.ReadAllLines(Assert.Single(Directory.GetFiles(_directory.Combine("exports")))).Length);
    }

    [Fact]
    public async Task Sigterm_EventsTheExporterCannotWrite_ExitsThree_AndLogsHowManyWereLost()
    {
        using CollectorProcess collector = await StartAsync("bufferDirectory: \"\"\n" + UnwritableExporter);

        collector.Signal("TERM");

        Assert.Equal(3, await collector.WaitForExitAsync());
        Assert.Contains("The collector stopped with 2 events neither written nor kept in a durable buffer (exporter-0: 2); exit code 3", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_EventsTheExporterCannotWrite_WithTheDurableBuffer_ExitsZero_TheyStayOnDisk()
    {
        using CollectorProcess collector = await StartAsync("bufferDirectory: ./buffer\n" + UnwritableExporter);

        collector.Signal("TERM");

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.DoesNotContain("neither written", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_EveryEventWritten_ExitsZero()
    {
        using CollectorProcess collector = await StartAsync("""
            bufferDirectory: ""
            exporters:
              - kind: file
                outputDir: ./exports
            """);

        collector.Signal("TERM");

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Equal(2, File.ReadAllLines(Assert.Single(Directory.GetFiles(_directory.Combine("exports")))).Length);
    }

    [Fact]
    public async Task Sigterm_AfterDeadLetters_ExitsZero_AndLogsWhereTheyAre()
    {
        using CollectorProcess collector = await StartAsync("""
            bufferDirectory: ""
            deadLetterDirectory: ./dead-letter
            maxRetryDuration: 1
            exporters:
              - kind: file
                name: exporter-0
                outputDir: ./not-a-folder/exports
            """);

        // The drain's export fails; its retry, a second later, finds the batch failing for longer than maxRetryDuration
        // and sets it aside, well within the default shutdown timeout.
        collector.Signal("TERM");

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Single(DeadLetters.List(_directory.Combine("dead-letter")));
        Assert.Contains(
            $"1 batches (2 events) were set aside as dead letters during this run (exporter-0: 1 in {_directory.Combine("dead-letter")})",
            collector.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Starts the collector with <paramref name="yaml"/>, then puts a regular file at <c>not-a-folder</c>, replacing the
    /// folder if the configuration uses it (start-up refuses a folder it cannot write, so it breaks once started), and
    /// posts two events.
    /// </summary>
    private async Task<CollectorProcess> StartAsync(string yaml)
    {
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), yaml, TestContext.Current.CancellationToken);
        var collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        try
        {
            string address = await collector.WaitUntilListeningAsync();
            if (Directory.Exists(_directory.Combine("not-a-folder")))
            {
                Directory.Delete(_directory.Combine("not-a-folder"), recursive: true);
            }

            await File.WriteAllTextAsync(_directory.Combine("not-a-folder"), "", TestContext.Current.CancellationToken);
            using var body = new StringContent(TwoEvents, Encoding.UTF8, "application/json");
            HttpResponseMessage response = await _client.PostAsync(address + "/v1/data/collector", body, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return collector;
        }
        catch
        {
            collector.Dispose();
            throw;
        }
    }
}

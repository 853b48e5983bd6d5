using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

public sealed class ReplayCommandTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Letters => System.IO.Path.Combine(_folder.Path, "dead-letter");

    private string Output => System.IO.Path.Combine(_folder.Path, "out");

    [Fact]
    public async Task ReplayDeadLetters_CauseFixed_WritesTheLetterThroughItsExporterAndDeletesIt()
    {
        await SetAsideAsync("exporter-0", ["u1", "u2", "u3"]);
        string config = WriteConfig();
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exit = await ReplayCommand.RunAsync(["--config", config], output, error, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0, exit);
        Assert.Empty(DeadLetters.List(Letters));
        string file = Assert.Single(Directory.GetFiles(Output));
        string[] lines = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);
        Assert.Equal(["u1", "u2", "u3"], lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("userKey").GetString()));
        Assert.Contains("Replayed 1 dead letters (3 events)", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayDeadLetters_LetterOfAnExporterNoLongerConfigured_Exits1AndKeepsIt()
    {
        await SetAsideAsync("exporter-7", ["u"]);
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exit = await ReplayCommand.RunAsync(["--config", WriteConfig()], output, error, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, exit);
        _ = Assert.Single(DeadLetters.List(Letters));
        Assert.Contains("exporter 'exporter-7', which is not registered", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a", "b")] // a dropped backlog (buffer drop-backlog writes to the top-level folder) replayed into b
    [InlineData("b", null)] // a letter of b from before b had its own folder
    public async Task ReplayDeadLetters_LettersInTheTopLevelFolder_ExporterWithItsOwnFolder_ReplaysThemOnce_NamingBothFolders(string setAsideBy, string? into)
    {
        await SetAsideAsync(setAsideBy, ["u1", "u2", "u3"]);
        string own = System.IO.Path.Combine(_folder.Path, "dead-letter-b");
        string config = System.IO.Path.Combine(_folder.Path, "collector.yaml");
        await File.WriteAllTextAsync(config, $"""
            deadLetterDirectory: {Letters}
            exporter:
              kind: file
              name: b
              outputDir: {Output}
              deadLetterDirectory: {own}
            """, TestContext.Current.CancellationToken);
        using var output = new StringWriter();
        using var error = new StringWriter();

        int exit = await ReplayCommand.RunAsync(["--config", config], output, error, into, TestContext.Current.CancellationToken);

        Assert.True(exit == 0, error.ToString());
        Assert.Empty(DeadLetters.List(Letters));
        string file = Assert.Single(Directory.GetFiles(Output));
        string[] lines = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);
        Assert.Equal(["u1", "u2", "u3"], lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("userKey").GetString()));
        Assert.Contains($"Replayed 1 dead letters (3 events) from '{Letters}'", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"Replayed 0 dead letters (0 events) from '{own}'", output.ToString(), StringComparison.Ordinal);

        // Run again: nothing is left to write, and nothing is written twice.
        Assert.Equal(0, await ReplayCommand.RunAsync(["--config", config], TextWriter.Null, TextWriter.Null, into, TestContext.Current.CancellationToken));
        _ = Assert.Single(Directory.GetFiles(Output));
    }

    private string WriteConfig()
    {
        string path = System.IO.Path.Combine(_folder.Path, "collector.yaml");
        File.WriteAllText(path, $"""
            deadLetterDirectory: {Letters}
            exporter:
              kind: file
              name: exporter-0
              outputDir: {Output}
            """);
        return path;
    }

    /// <summary>Makes a dead letter as the pipeline named <paramref name="exporter"/> does when its exporter cannot write.</summary>
    private async Task SetAsideAsync(string exporter, string[] userKeys)
    {
        var options = new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), DeadLetterDirectory = Letters, ShutdownTimeout = TimeSpan.FromMilliseconds(50) };
        await using var pipeline = new DataExporter(new CannotEncode(), options, name: exporter);
        foreach (string key in userKeys)
        {
            _ = pipeline.Add(new FeatureEvent { UserKey = key, Key = "flag", CreationDate = 1_700_000_000 });
        }

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        _ = Assert.Single(DeadLetters.List(Letters));
    }

    private sealed class CannotEncode : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken) =>
            throw new ExportEncodingException("cannot encode", new FormatException("broken template"));
    }
}

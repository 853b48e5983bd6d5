using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Exporters;

public sealed class FileExporterTests : IDisposable
{
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);
    private readonly TempDirectory _folder = new();
    private readonly FakeTimeProvider _clock = new(FlushTime);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ExportAsync_DefaultOptions_WritesJsonLinesUnderTheDefaultName()
    {
        var exporter = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path }, timeProvider: _clock);

        await exporter.ExportAsync([SampleEvent("ABCD")], TestContext.Current.CancellationToken);

        string expectedName = $"flag-variation-{Environment.MachineName}-1617970800.json";
        Assert.Equal([expectedName], _folder.FileNames());
        Assert.Equal(
            """{"kind":"feature","contextKind":"anonymousUser","userKey":"ABCD","creationDate":1617970547,"key":"random-key","variation":"Default","value":"YO","default":false,"version":"","source":"SERVER"}""" + "\n",
            await File.ReadAllTextAsync(Path.Combine(_folder.Path, expectedName), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ExportAsync_ThreeFlushesInTheSameSecond_WriteThreeFilesWithSuffixes()
    {
        var exporter = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path, Filename = "batch-{{ .Timestamp}}.{{ .Format}}" }, timeProvider: _clock);

        await exporter.ExportAsync([SampleEvent("first")], TestContext.Current.CancellationToken);
        await exporter.ExportAsync([SampleEvent("second")], TestContext.Current.CancellationToken);
        await exporter.ExportAsync([SampleEvent("third")], TestContext.Current.CancellationToken);

        Assert.Equal(["batch-1617970800-1.json", "batch-1617970800-2.json", "batch-1617970800.json"], _folder.FileNames());
        Assert.Contains("\"first\"", await ReadAsync("batch-1617970800.json"));
        Assert.Contains("\"second\"", await ReadAsync("batch-1617970800-1.json"));
        Assert.Contains("\"third\"", await ReadAsync("batch-1617970800-2.json"));
    }

    [Fact]
    public async Task ExportAsync_ConcurrentExportersOnOneName_NeverOverwriteEachOther()
    {
        var options = new FileExporterOptions { OutputDir = _folder.Path, Filename = "same.json" };
        FileExporter[] exporters = [.. Enumerable.Range(0, 8).Select(_ => new FileExporter(options, timeProvider: _clock))];

        await Task.WhenAll(exporters.Select((exporter, i) => Task.Run(
            () => exporter.ExportAsync([SampleEvent($"writer-{i}")], TestContext.Current.CancellationToken),
            TestContext.Current.CancellationToken)));

        string[] names = _folder.FileNames();
        Assert.Equal(8, names.Length);
        string[] contents = await Task.WhenAll(names.Select(ReadAsync));
        Assert.Equal(
            Enumerable.Range(0, 8).Select(i => $"writer-{i}").Order(StringComparer.Ordinal),
            contents.Select(c => c.Split('"')[11]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ExportAsync_LeavesNoTemporaryFiles_AndCreatesTheFolder()
    {
        string nested = Path.Combine(_folder.Path, "a", "b");
        var exporter = new FileExporter(new FileExporterOptions { OutputDir = nested, Filename = "x.json" }, timeProvider: _clock);

        await exporter.ExportAsync([SampleEvent("u")], TestContext.Current.CancellationToken);

        Assert.Equal([Path.Combine("a", "b", "x.json")], _folder.FileNames());
    }

    [Theory]
    [InlineData("xml")]
    [InlineData("jsonl")]
    public void Constructor_UnknownFormat_NamesOptionValueAndValidValues(string format)
    {
        var error = Assert.Throws<ArgumentException>(() => new FileExporter(new FileExporterOptions { Format = format }));

        Assert.StartsWith($"Format '{format}' is not a valid format; valid values are JSON, CSV, Parquet (case-insensitive).", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("json", ".json")]
    [InlineData("CSV", ".csv")]
    [InlineData("pArQuEt", ".parquet")]
    public async Task ExportAsync_FormatIsCaseInsensitive_AndNamesTheExtension(string format, string extension)
    {
        var exporter = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path, Format = format }, timeProvider: _clock);

        await exporter.ExportAsync([SampleEvent("u")], TestContext.Current.CancellationToken);

        Assert.EndsWith(extension, Assert.Single(_folder.FileNames()), StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_EmptyOutputDir_NamesTheOption()
    {
        var error = Assert.Throws<ArgumentException>(() => new FileExporter(new FileExporterOptions { OutputDir = " " }));

        Assert.StartsWith("OutputDir must name a folder; got ' '.", error.Message, StringComparison.Ordinal);
    }

    private static FeatureEvent SampleEvent(string userKey) => new()
    {
        ContextKind = "anonymousUser", UserKey = userKey, CreationDate = 1617970547, Key = "random-key",
        Variation = "Default", Value = "YO", Source = "SERVER",
    };

    private Task<string> ReadAsync(string name) =>
        File.ReadAllTextAsync(Path.Combine(_folder.Path, name), Encoding.UTF8, TestContext.Current.CancellationToken);
}

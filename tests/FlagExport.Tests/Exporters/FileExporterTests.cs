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
    public async Task ExportAsync_RetryOfABatchWhoseFileIsThere_WritesNoSecondFile()
    {
        var options = new FileExporterOptions { OutputDir = _folder.Path, Filename = "batch-{{ .Timestamp}}.{{ .Format}}" };
        var batch = new ExportBatch([SampleEvent("once")]);
        await new FileExporter(options, timeProvider: _clock).ExportAsync(batch, TestContext.Current.CancellationToken);

        // The retry of an attempt whose outcome was lost, by a new exporter (a restarted process) an hour later.
        _clock.Advance(TimeSpan.FromHours(1));
        await new FileExporter(options, timeProvider: _clock).ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(["batch-1617970800.json"], _folder.FileNames());
        Assert.Equal(Path.Combine(_folder.Path, "batch-1617970800.json"), batch.GetRecorded(FileExporter.FileNameRecord));
    }

    [Fact]
    public async Task ExportAsync_RetryWhoseRecordedNameAnotherWriterTook_WritesItsOwnFileUnderTheNextName()
    {
        var options = new FileExporterOptions { OutputDir = _folder.Path, Filename = "batch.{{ .Format}}" };
        var batch = new ExportBatch([SampleEvent("mine")]);
        // The first attempt recorded its name and hash and died before the rename; another writer then took the name.
        await RecordFirstAttemptAsync(batch, options, "batch.json");
        await batch.RecordAsync(FileExporter.FileHashRecord, new string('0', 32), TestContext.Current.CancellationToken);
        await batch.RecordAsync(FileExporter.FileNameRecord, Path.Combine(_folder.Path, "batch.json"), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_folder.Path, "batch.json"), "someone else's\n", TestContext.Current.CancellationToken);

        await new FileExporter(options, timeProvider: _clock).ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(["batch-1.json", "batch.json"], _folder.FileNames());
        Assert.Contains("\"mine\"", await ReadAsync("batch-1.json"));
        Assert.Equal("someone else's\n", await ReadAsync("batch.json"));
    }

    [Fact]
    public async Task ExportAsync_RetryOfABatchWhoseFileNeverAppeared_WritesItUnderTheFirstAttemptsName()
    {
        var options = new FileExporterOptions { OutputDir = _folder.Path, Filename = "batch-{{ .Timestamp}}.{{ .Format}}" };
        var batch = new ExportBatch([SampleEvent("late")]);
        await RecordFirstAttemptAsync(batch, options, "batch-1617970000.json"); // the first attempt died before its rename

        await new FileExporter(options, timeProvider: _clock).ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(["batch-1617970000.json"], _folder.FileNames());
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
        // File.Move(overwrite: false) lost one file of eight here: only an atomic no-replace move passes this.
        const int Writers = 32;
        var options = new FileExporterOptions { OutputDir = _folder.Path, Filename = "same.json" };
        FileExporter[] exporters = [.. Enumerable.Range(0, Writers).Select(_ => new FileExporter(options, timeProvider: _clock))];
        using var start = new Barrier(Writers);

        await Task.WhenAll(exporters.Select((exporter, i) => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(TestContext.Current.CancellationToken);
                exporter.ExportAsync([SampleEvent($"writer-{i:D2}")], TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            },
            TestContext.Current.CancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));

        string[] names = _folder.FileNames();
        Assert.Equal(Writers, names.Length);
        string[] contents = await Task.WhenAll(names.Select(ReadAsync));
        Assert.Equal(
            Enumerable.Range(0, Writers).Select(i => $"writer-{i:D2}"),
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

    [Fact]
    public void Constructor_FilenameThatCanExceedAFileNameLimit_IsRefusedNamingTheLongestName()
    {
        // 200 literal bytes + UUID (36) + ".json"-like format (7) + "-10000" = 249 fits; two more UUIDs do not.
        string fits = new string('a', 200) + "{{ .UUID}}.{{ .Format}}";
        string tooLong = new string('a', 200) + "{{ .UUID}}{{ .UUID}}.{{ .Format}}";
        using var accepted = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path, Filename = fits });

        var error = Assert.Throws<ArgumentException>(() => new FileExporter(new FileExporterOptions { OutputDir = _folder.Path, Filename = tooLong }));

        Assert.Equal("Filename", error.ParamName);
        Assert.StartsWith($"Filename '{tooLong}' can give names of up to 286 bytes on this host", error.Message, StringComparison.Ordinal);
        Assert.Contains("more than the 255 a file name may have", error.Message, StringComparison.Ordinal);
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
    public async Task ExportAsync_Csv_WritesTheIssueExampleLine()
    {
        var exporter = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path, Format = "CSV", Filename = "out.{{ .Format}}" }, timeProvider: _clock);

        await exporter.ExportAsync([SampleEvent("ABCD")], TestContext.Current.CancellationToken);

        Assert.Equal("feature;anonymousUser;ABCD;1617970547;random-key;Default;YO;false;SERVER\n", await ReadAsync("out.csv"));
    }

    [Fact]
    public async Task ExportAsync_Parquet_WritesAFileDuckDbQueries()
    {
        var exporter = new FileExporter(
            new FileExporterOptions { OutputDir = _folder.Path, Format = "Parquet", ParquetCompressionCodec = "zstd", Filename = "out.{{ .Format}}" },
            timeProvider: _clock);

        await exporter.ExportAsync([SampleEvent("ABCD"), SampleEvent("EFGH")], TestContext.Current.CancellationToken);

        byte[] file = await File.ReadAllBytesAsync(Path.Combine(_folder.Path, "out.parquet"), TestContext.Current.CancellationToken);
        List<object?[]> rows = FlagExport.Tests.Formats.ParquetReaders.QueryWithDuckDb(file, "select userKey, value, creationDate from read_parquet({file}) order by userKey");
        Assert.Equal([["ABCD", "\"YO\"", 1617970547L], ["EFGH", "\"YO\"", 1617970547L]], rows);
    }

    [Fact]
    public async Task Dispose_ReturnsTheParquetBuffers_AndALaterExportStillWritesItsBatch()
    {
        // The container disposes the exporter after the pipeline stops; an export the pipeline abandoned at its deadline
        // may still finish after that, and must not lose its batch.
        using var exporter = new FileExporter(
            new FileExporterOptions { OutputDir = _folder.Path, Format = "Parquet", Filename = "out.{{ .Format}}" }, timeProvider: _clock);
        await exporter.ExportAsync([SampleEvent("ABCD")], TestContext.Current.CancellationToken);

        exporter.Dispose();
        await exporter.ExportAsync([SampleEvent("EFGH")], TestContext.Current.CancellationToken);

        byte[] second = await File.ReadAllBytesAsync(Path.Combine(_folder.Path, "out-1.parquet"), TestContext.Current.CancellationToken);
        Assert.Equal([["EFGH"]], FlagExport.Tests.Formats.ParquetReaders.QueryWithDuckDb(second, "select userKey from read_parquet({file})"));
    }

    [Fact]
    public async Task ExportAsync_TrackingExporterOnDefaultCsvTemplate_WritesTrackingFields()
    {
        var exporter = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path, Format = "csv", Filename = "t.csv" }, EventType.Tracking, _clock);
        var tracking = new TrackingEvent
        {
            UserKey = "ABCD", CreationDate = 1617970547, Key = "checkout",
            TrackingEventDetails = new Dictionary<string, FlagValue> { ["amount"] = 12.5 },
        };

        await exporter.ExportAsync([tracking], TestContext.Current.CancellationToken);

        Assert.Equal("tracking;user;ABCD;1617970547;checkout;;{\"amount\":12.5}\n", await ReadAsync("t.csv")); // a missing map prints nothing, like null metadata
    }

    [Fact]
    public void Constructor_BadTemplateOrCodec_NamesTheOption()
    {
        var csv = Assert.Throws<ArgumentException>(() => new FileExporter(new FileExporterOptions { CsvTemplate = "{{ .Nope}}" }));
        var codec = Assert.Throws<ArgumentException>(() => new FileExporter(new FileExporterOptions { ParquetCompressionCodec = "lzma" }));
        var name = Assert.Throws<ArgumentException>(() => new FileExporter(new FileExporterOptions { Filename = "{{ if .Format}}x{{ end }}" }));

        Assert.Equal("CsvTemplate", csv.ParamName);
        Assert.Contains("'.Nope'", csv.Message, StringComparison.Ordinal);
        Assert.Equal("ParquetCompressionCodec", codec.ParamName);
        Assert.Contains("'lzma'", codec.Message, StringComparison.Ordinal);
        Assert.Equal("Filename", name.ParamName);
    }

    [Fact]
    public async Task ExportAsync_LongestFileNameWithRoomForEverySuffix_IsWritten()
    {
        string name = new string('a', 244) + ".json"; // 249 bytes: with "-10000" the 255 a file name may have
        var exporter = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path, Filename = name }, timeProvider: _clock);

        await exporter.ExportAsync([SampleEvent("u")], TestContext.Current.CancellationToken);

        Assert.Equal([name], _folder.FileNames());
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

    /// <summary>The records a first attempt that rendered <paramref name="fileName"/> leaves before it writes its one part.</summary>
    private static async Task RecordFirstAttemptAsync(ExportBatch batch, FileExporterOptions options, string fileName)
    {
        using var encoder = ExportFileEncoder.Create(options, EventType.Feature);
        await batch.RecordAsync(BatchEncoding.SettingsRecord, BatchEncoding.Format(encoder.Settings, fileName, exporterSettings: null), TestContext.Current.CancellationToken);
        await batch.RecordAsync(BatchEncoding.PartRecord("", 0), $"0-{batch.Events.Count}", TestContext.Current.CancellationToken);
    }
}

using FlagExport.Tests.Formats;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Exporters;

/// <summary>The file exporter with <see cref="ExportFileOptions.MaxBatchBytes"/>: one file per part, named and retried like one file.</summary>
public sealed class FileExporterPartsTests : IDisposable
{
    private const int Max = 256 * 1024;
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);
    private readonly TempDirectory _folder = new();
    private readonly FakeTimeProvider _clock = new(FlushTime);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ExportAsync_JsonBatchAboveMaxBatchBytes_WritesFilesWithinBoundsUnderSuffixedNamesThatConcatenateToTheBatch()
    {
        FeatureEvent[] events = PartTestEvents.Create(7_000);
        var batch = new ExportBatch(events);

        await new FileExporter(Options(_folder.Path), timeProvider: _clock).ExportAsync(batch, TestContext.Current.CancellationToken);

        string[] names = PartNames(_folder.Path);
        Assert.True(names.Length >= 4, $"{names.Length} files");
        Assert.Equal(["batch-1617970800.json", .. Enumerable.Range(1, names.Length - 1).Select(i => $"batch-1617970800-{i}.json")], names);
        long[] sizes = [.. names.Select(n => new FileInfo(Path.Combine(_folder.Path, n)).Length)];
        Assert.All(sizes, s => Assert.True(s <= Max, $"{s} bytes"));
        Assert.All(sizes.SkipLast(1), s => Assert.True(s * 10 >= Max * 9L, $"{s} bytes"));
        Assert.Equal(await WholeBatchBytesAsync("JSON", events), names.SelectMany(n => File.ReadAllBytes(Path.Combine(_folder.Path, n))).ToArray());
        Assert.Equal(Path.Combine(_folder.Path, "batch-1617970800.json"), batch.GetRecorded(FileExporter.FileNameRecord));
        Assert.Equal(Path.Combine(_folder.Path, "batch-1617970800-1.json"), batch.GetRecorded("file.part1.name"));
    }

    [Fact]
    public async Task ExportAsync_ParquetBatchAboveMaxBatchBytes_EachFileReadsBackAndTogetherTheyAreTheBatchInOrder()
    {
        FeatureEvent[] events = PartTestEvents.Create(60_000);

        await new FileExporter(Options(_folder.Path, "Parquet"), timeProvider: _clock).ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);

        string[] names = PartNames(_folder.Path);
        Assert.True(names.Length >= 3, $"{names.Length} files");
        var userKeys = new List<object>();
        foreach (string name in names)
        {
            byte[] file = File.ReadAllBytes(Path.Combine(_folder.Path, name));
            Assert.True(file.Length <= Max);
            userKeys.AddRange(ParquetReaders.ReadWithParquetSharp(file, out _, out _)["userKey"]);
        }

        Assert.Equal(events.Select(e => (object)e.UserKey), userKeys);
    }

    [Fact]
    public async Task ExportAsync_SameBatchTwiceWithFreshExporters_WritesTheSameFilesAndNames()
    {
        using var other = new TempDirectory();
        FeatureEvent[] events = PartTestEvents.Create(7_000);

        await new FileExporter(Options(_folder.Path), timeProvider: _clock).ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);
        await new FileExporter(Options(other.Path), timeProvider: _clock).ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);

        string[] names = PartNames(_folder.Path);
        Assert.Equal(names, PartNames(other.Path));
        Assert.All(names, n => Assert.Equal(File.ReadAllBytes(Path.Combine(_folder.Path, n)), File.ReadAllBytes(Path.Combine(other.Path, n))));
    }

    [Fact]
    public async Task ExportAsync_RetryAfterTheLastPartWasLost_WritesOnlyThatPartUnderItsRecordedName()
    {
        FeatureEvent[] events = PartTestEvents.Create(7_000);
        var batch = new ExportBatch(events);
        await new FileExporter(Options(_folder.Path), timeProvider: _clock).ExportAsync(batch, TestContext.Current.CancellationToken);
        string[] names = PartNames(_folder.Path);
        Dictionary<string, byte[]> written = names.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(_folder.Path, n)));
        DateTime[] firstWrites = [.. names.SkipLast(1).Select(n => File.GetLastWriteTimeUtc(Path.Combine(_folder.Path, n)))];
        File.Delete(Path.Combine(_folder.Path, names[^1])); // recorded, never made visible: the process died before its rename

        // The retry, by a new exporter (a restarted process) later: the same names, nothing written twice.
        _clock.Advance(TimeSpan.FromHours(1));
        await new FileExporter(Options(_folder.Path), timeProvider: _clock).ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(names, PartNames(_folder.Path));
        Assert.All(names, n => Assert.Equal(written[n], File.ReadAllBytes(Path.Combine(_folder.Path, n))));
        Assert.Equal(firstWrites, names.SkipLast(1).Select(n => File.GetLastWriteTimeUtc(Path.Combine(_folder.Path, n))));
    }

    [Fact]
    public async Task ExportAsync_WithoutMaxBatchBytes_WritesTheWholeBatchAsOneFile()
    {
        FeatureEvent[] events = PartTestEvents.Create(7_000);
        var options = Options(_folder.Path);
        options.MaxBatchBytes = null;

        await new FileExporter(options, timeProvider: _clock).ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);

        Assert.Equal(["batch-1617970800.json"], PartNames(_folder.Path));
        Assert.Equal(await WholeBatchBytesAsync("JSON", events), File.ReadAllBytes(Path.Combine(_folder.Path, "batch-1617970800.json")));
    }

    private static FileExporterOptions Options(string folder, string format = "JSON") =>
        new() { OutputDir = folder, Format = format, Filename = "batch-{{ .Timestamp}}.{{ .Format}}", MaxBatchBytes = Max };

    /// <summary>The files in part order: the unsuffixed name first, then by suffix.</summary>
    private static string[] PartNames(string folder) =>
    [
        .. Directory.EnumerateFiles(folder).Select(Path.GetFileName).Cast<string>()
            .OrderBy(n => Path.GetFileNameWithoutExtension(n).Split('-') is { Length: 3 } p ? int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture) : 0),
    ];

    private static async Task<byte[]> WholeBatchBytesAsync(string format, IReadOnlyList<ExportableEvent> events)
    {
        using var encoder = ExportFileEncoder.Create(new FileExporterOptions { Format = format }, EventType.Feature);
        using PooledBufferWriter whole = await encoder.EncodeAsync(events, TestContext.Current.CancellationToken);
        return whole.WrittenSpan.ToArray();
    }
}

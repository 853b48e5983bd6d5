using FlagExport.S3;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.BucketFolderExporter.Tests;

/// <summary>
/// The sample exporter, built on the public toolkit only, names and encodes its files exactly as the S3 exporter names
/// and encodes its objects (the S3 exporter writing to an in-memory S3 is the reference), and registers like it.
/// </summary>
public sealed class BucketFolderExporterTests : IDisposable
{
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1764547200); // 2025-12-01T00:00:00Z
    private const string HivePath = "events/year={{ .Year}}/month={{ .Month}}/day={{ .Day}}/hour={{ .Hour}}/";
    private readonly string _root = Directory.CreateTempSubdirectory("bucket-folder-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("JSON")]
    [InlineData("CSV")]
    [InlineData("Parquet")]
    public async Task ExportAsync_BatchOverSeveralHours_WritesTheS3ExportersKeysAndBytes(string format)
    {
        FeatureEvent[] events = EventsOverHours();
        using var exporter = new BucketFolderExporter(new() { RootDirectory = _root, Path = HivePath, Format = format }, timeProvider: new FakeTimeProvider(FlushTime));
        await exporter.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);

        string bucket = "reference-" + format.ToLowerInvariant();
        using var s3 = new InMemoryS3(bucket);
        using var reference = new S3Exporter(new S3ExporterOptions { Bucket = bucket, S3Path = HivePath, Format = format }, s3, timeProvider: new FakeTimeProvider(FlushTime));
        await reference.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);

        string[] keys = s3.Keys(bucket);
        Assert.Equal(3, keys.Length); // three hours, one of them on the next day
        Assert.Equal(keys, FilesUnderRoot());
        foreach (string key in keys)
        {
            Assert.True(s3.TryGet(bucket, key, out byte[] expected, out _));
            Assert.Equal(expected, await File.ReadAllBytesAsync(Path.Combine(_root, key), TestContext.Current.CancellationToken));
        }
    }

    [Theory]
    [InlineData("JSON", 16 * 1024)]
    [InlineData("Parquet", 2 * 1024)] // Parquet's columns compress these events about tenfold
    public async Task ExportAsync_MaxBatchBytes_WritesTheS3ExportersPartsUnderItsKeys(string format, int maxBatchBytes)
    {
        FeatureEvent[] events = ManyEventsOverTwoHours(2000);
        using var exporter = new BucketFolderExporter(new() { RootDirectory = _root, Path = HivePath, Format = format, MaxBatchBytes = maxBatchBytes }, timeProvider: new FakeTimeProvider(FlushTime));
        var batch = new ExportBatch(events);
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);
        string[] written = FilesUnderRoot();
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken); // a retry finds every part

        string bucket = "reference-parts-" + format.ToLowerInvariant();
        using var s3 = new InMemoryS3(bucket);
        using var reference = new S3Exporter(new S3ExporterOptions { Bucket = bucket, S3Path = HivePath, Format = format, MaxBatchBytes = maxBatchBytes }, s3, timeProvider: new FakeTimeProvider(FlushTime));
        await reference.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);

        string[] keys = s3.Keys(bucket);
        Assert.True(keys.Length > 4, $"{keys.Length} objects: the batch should need several parts per partition");
        Assert.Equal(keys, written);
        Assert.Equal(keys, FilesUnderRoot());
        foreach (string key in keys)
        {
            Assert.True(s3.TryGet(bucket, key, out byte[] expected, out _));
            byte[] actual = await File.ReadAllBytesAsync(Path.Combine(_root, key), TestContext.Current.CancellationToken);
            Assert.Equal(expected, actual);
            Assert.True(actual.Length <= maxBatchBytes, $"{key}: {actual.Length} bytes");
        }
    }

    [Fact]
    public async Task ExportAsync_TwoBatchesInTheSameSecond_SecondGetsASuffixAsInS3()
    {
        var clock = new FakeTimeProvider(FlushTime);
        using var exporter = new BucketFolderExporter(new() { RootDirectory = _root, Path = "p/" }, timeProvider: clock);
        await exporter.ExportAsync(new ExportBatch(EventsOverHours()[..2]), TestContext.Current.CancellationToken);
        await exporter.ExportAsync(new ExportBatch(EventsOverHours()[2..4]), TestContext.Current.CancellationToken);

        using var s3 = new InMemoryS3("reference-suffix");
        using var reference = new S3Exporter(new S3ExporterOptions { Bucket = "reference-suffix", S3Path = "p/" }, s3, timeProvider: clock);
        await reference.ExportAsync(new ExportBatch(EventsOverHours()[..2]), TestContext.Current.CancellationToken);
        await reference.ExportAsync(new ExportBatch(EventsOverHours()[2..4]), TestContext.Current.CancellationToken);

        string name = $"flag-variation-{Environment.MachineName}-{FlushTime.ToUnixTimeSeconds()}";
        Assert.Equal([$"p/{name}-1.json", $"p/{name}.json"], FilesUnderRoot());
        Assert.Equal(s3.Keys("reference-suffix"), FilesUnderRoot());
    }

    [Fact]
    public async Task ExportAsync_RetryOfAWrittenBatch_WritesNothingNew()
    {
        var clock = new FakeTimeProvider(FlushTime);
        using var exporter = new BucketFolderExporter(new() { RootDirectory = _root, Path = HivePath }, timeProvider: clock);
        var batch = new ExportBatch(EventsOverHours());

        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);
        string[] first = FilesUnderRoot();
        clock.Advance(TimeSpan.FromMinutes(5)); // a retry later: the recorded name, not a new one
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(3, first.Length);
        Assert.Equal(first, FilesUnderRoot());
    }

    [Fact]
    public async Task ExportAsync_AnotherWritersFileUnderTheRecordedKey_IsNotTakenForOurs()
    {
        using var exporter = new BucketFolderExporter(new() { RootDirectory = _root, Path = "p/" }, timeProvider: new FakeTimeProvider(FlushTime));
        var batch = new ExportBatch(EventsOverHours()[..2]);
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);
        string key = Assert.Single(FilesUnderRoot());
        await File.WriteAllTextAsync(Path.Combine(_root, key), "someone else's\n", TestContext.Current.CancellationToken);

        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal([key[..^".json".Length] + "-1.json", key], FilesUnderRoot());
        Assert.Equal("someone else's\n", await File.ReadAllTextAsync(Path.Combine(_root, key), TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("../escaped/")]
    [InlineData("a/./b/")]
    [InlineData("a\\b/")]
    public void Constructor_PathLeavingTheRoot_IsRefusedNamingIt(string path)
    {
        var error = Assert.Throws<ArgumentException>(() => new BucketFolderExporter(new() { RootDirectory = _root, Path = path }));

        Assert.Equal("Path", error.ParamName);
        Assert.Contains($"Path '{path}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EncodeObjectAsync_IsTheWrittenFile()
    {
        FeatureEvent[] events = EventsOverHours()[..2];
        using var exporter = new BucketFolderExporter(new() { RootDirectory = _root, Format = "Parquet" }, timeProvider: new FakeTimeProvider(FlushTime));
        await exporter.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);

        (PooledBufferWriter content, string fileName) = await exporter.EncodeObjectAsync(events, TestContext.Current.CancellationToken);
        using (content)
        {
            Assert.Equal("object.parquet", fileName);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_root, Assert.Single(FilesUnderRoot())), TestContext.Current.CancellationToken), content.WrittenSpan.ToArray());
        }
    }

    [Fact]
    public async Task AddBucketFolderExporter_OptionsFromConfiguration_WritesOnStop()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:bucket-folder:RootDirectory"] = _root,
            ["FlagExport:Exporters:bucket-folder:Path"] = "dt={{ .Year}}-{{ .Month}}-{{ .Day}}/",
            ["FlagExport:Exporters:bucket-folder:Format"] = "csv",
            ["FlagExport:Exporters:bucket-folder:FlushInterval"] = "00:10:00",
        });
        _ = builder.Services.AddFlagExport(export => export.AddBucketFolderExporter(configure: o => o.Filename = "hosted-{{ .Timestamp}}.{{ .Format}}"));
        FeatureEvent added = EventsOverHours()[0];
        string day = DateTimeOffset.FromUnixTimeSeconds(added.CreationDate).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        using (IHost host = builder.Build())
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            Assert.True(host.Services.GetRequiredService<IFlagEventSink>().Add(added));
            await host.StopAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal([$"dt={day}/hosted-{FlushTime.ToUnixTimeSeconds()}.csv"], FilesUnderRoot());
    }

    [Fact]
    public async Task AddBucketFolderExporter_InvalidAndUnknownKeys_StopTheHostNamingEach()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:bucket-folder:RootDirectory"] = _root,
            ["FlagExport:Exporters:bucket-folder:Path"] = "{{ .Hostname}}/",
            ["FlagExport:Exporters:bucket-folder:Bucket"] = "b",
        });
        _ = builder.Services.AddFlagExport(export => export.AddBucketFolderExporter());
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("FlagExport:Exporters:bucket-folder:Path", error.Message, StringComparison.Ordinal);
        Assert.Contains("unknown field '.Hostname'", error.Message, StringComparison.Ordinal);
        Assert.Contains("FlagExport:Exporters:bucket-folder:Bucket is not an option of this exporter", error.Message, StringComparison.Ordinal);
    }

    private string[] FilesUnderRoot() =>
        [.. Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(_root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)];

    [Fact]
    public async Task ExportAsync_RetryWithOtherPathFormatAndMaxBatchBytesAfterAFailedPartition_WritesEachEventOnce()
    {
        FeatureEvent[] events = ManyEventsOverTwoHours(2000);
        string blocked = Path.Combine(_root, "events/year=2025/month=11/day=30/hour=23");
        Directory.CreateDirectory(Path.GetDirectoryName(blocked)!);
        await File.WriteAllTextAsync(blocked, "a file where the second hour's folder goes", TestContext.Current.CancellationToken);
        var batch = new ExportBatch(events);
        var clock = new FakeTimeProvider(FlushTime);
        using (var before = new BucketFolderExporter(new() { RootDirectory = _root, Path = HivePath, MaxBatchBytes = 8 * 1024 }, timeProvider: clock))
        {
            _ = await Assert.ThrowsAnyAsync<IOException>(() => before.ExportAsync(batch, TestContext.Current.CancellationToken));
        }

        int writtenBefore = FilesUnderRoot().Length;
        File.Delete(blocked);
        clock.Advance(TimeSpan.FromMinutes(5));
        using (var after = new BucketFolderExporter(new() { RootDirectory = _root, Path = "all/", Format = "CSV", MaxBatchBytes = 32 * 1024 }, timeProvider: clock))
        {
            await after.ExportAsync(batch, TestContext.Current.CancellationToken);
        }

        string[] files = FilesUnderRoot();
        Assert.True(writtenBefore >= 3 && files.Length > writtenBefore, $"{writtenBefore} files before the failure, {files.Length} after");
        Assert.All(files, f => Assert.Matches(@"^events/year=2025/month=11/day=30/hour=2[23]/", f)); // the first attempt's path
        List<string> userKeys = [.. files.SelectMany(f => UserKeys(Path.Combine(_root, f)))];
        Assert.Equal(events.Select(e => e.UserKey).Order(StringComparer.Ordinal), userKeys.Order(StringComparer.Ordinal));
    }

    /// <summary>The user keys of a JSON lines file (or a CSV file, whose user key field starts with <c>user-</c>).</summary>
    private static IEnumerable<string> UserKeys(string file) =>
        File.ReadAllLines(file).Where(line => line.Length > 0).Select(line =>
        {
            if (file.EndsWith(".csv", StringComparison.Ordinal))
            {
                return line.Split(';').Single(field => field.StartsWith("user-", StringComparison.Ordinal));
            }

            using var json = System.Text.Json.JsonDocument.Parse(line);
            return json.RootElement.GetProperty("userKey").GetString()!;
        });

    /// <summary><paramref name="count"/> events with distinct users over two hours.</summary>
    private static FeatureEvent[] ManyEventsOverTwoHours(int count)
    {
        long start = FlushTime.ToUnixTimeSeconds() - 7200;
        return [.. Enumerable.Range(0, count).Select(i => new FeatureEvent
        {
            UserKey = $"user-{i * 7919 % 100_003}",
            Key = $"flag-{i % 13}",
            CreationDate = start + (i * 7200L / count),
            Variation = i % 3 == 0 ? "on" : "off",
            Value = i % 3 == 0,
            Version = "v1",
        })];
    }

    /// <summary>Six events over three hours, the last two on the next day.</summary>
    private static FeatureEvent[] EventsOverHours()
    {
        long start = FlushTime.ToUnixTimeSeconds() - 3600; // 2025-11-30T23:00Z
        long[] times = [start, start + 10, start + 3600, start + 3700, start + 7200, start + 7300];
        return [.. times.Select((time, i) => new FeatureEvent
        {
            UserKey = $"user-{i}",
            Key = $"flag-{i % 2}",
            CreationDate = time,
            Variation = i % 2 == 0 ? "on" : "off",
            Value = i % 2 == 0,
            Version = "v1",
        })];
    }

    private static HostApplicationBuilder CreateBuilder(Dictionary<string, string?> configuration)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        _ = builder.Configuration.AddInMemoryCollection(configuration);
        _ = builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(FlushTime));
        return builder;
    }
}

using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Exporters;

/// <summary>
/// A batch cut into parts, some written, then the output disk full; the process restarts with other options
/// (<c>MaxBatchBytes</c>, format, codec, row group size, file name): the retry writes each event exactly once.
/// </summary>
public sealed class FileExporterOptionChangeTests
{
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Theory]
    [InlineData("CSV", 40 * 1024)]
    [InlineData("Parquet", 64 * 1024)]
    [InlineData("JSON", 8 * 1024)]
    public async Task Retry_AfterAFullDiskWithOtherMaxBatchBytesAndFormat_WritesEachEventOnce(string format, int maxBatchBytes)
    {
        Tmpfs.RequireRoot();
        using var folder = new TempDirectory();
        await Tmpfs.MountAsync(folder.Path, "256k");
        try
        {
            var clock = new FakeTimeProvider(FlushTime);
            FeatureEvent[] events = PartTestEvents.Create(3_000);
            var records = new RestartableRecords("full-disk", events.Length);
            var before = new FileExporter(
                new FileExporterOptions { OutputDir = folder.Path, Filename = "batch-{{ .Timestamp}}.{{ .Format}}", MaxBatchBytes = 16 * 1024 },
                timeProvider: clock);
            IOException full = await Assert.ThrowsAnyAsync<IOException>(() => before.ExportAsync(new ExportBatch(events, records.State, 1), TestContext.Current.CancellationToken));
            Assert.True(full.Message.Contains("full", StringComparison.OrdinalIgnoreCase), full.ToString());
            int writtenBefore = folder.FileNames().Length;
            Assert.True(writtenBefore >= 5, $"{writtenBefore} parts written before the disk was full");

            // The operator frees space and changes the options; the process restarts from its cursor.
            await Tmpfs.ResizeAsync(folder.Path, "64m");
            records.Restart();
            clock.Advance(TimeSpan.FromMinutes(5));
            var after = new FileExporter(
                new FileExporterOptions
                {
                    OutputDir = folder.Path,
                    Filename = "other-{{ .UUID}}.{{ .Format}}",
                    Format = format,
                    MaxBatchBytes = maxBatchBytes,
                    ParquetCompressionCodec = "GZIP",
                    ParquetRowGroupSize = 100,
                },
                timeProvider: clock);
            await after.ExportAsync(new ExportBatch(events, records.State, 2), TestContext.Current.CancellationToken);

            Assert.Equal(events.Select(e => e.UserKey).Order(StringComparer.Ordinal), WrittenEvents.UserKeys(folder.Path).Order(StringComparer.Ordinal));
            Assert.All(folder.FileNames(), name => Assert.StartsWith("batch-1617970800", name, StringComparison.Ordinal)); // the first attempt's name and format
        }
        finally
        {
            await Tmpfs.UnmountAsync(folder.Path);
        }
    }
}

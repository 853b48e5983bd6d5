using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Exporters;

/// <summary>What <see cref="ExportFileEncoder.BeginAsync"/> records with a batch, and what a later attempt reads back.</summary>
public sealed class BatchEncodingTests
{
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Fact]
    public async Task EncodePartsAsync_MoreThanTenThousandAndOneParts_FailsPermanentlyAtThePartWithNoName()
    {
        // Each event alone is above the limit, so each is a part of its own.
        FeatureEvent[] events = [.. Enumerable.Range(0, ExportFileEncoder.MaxSuffix + 2).Select(i => new FeatureEvent { Key = "k", UserKey = $"user-{i}-{new string('x', 1100)}" })];
        using var encoder = ExportFileEncoder.Create(new FileExporterOptions { OutputDir = "unused", MaxBatchBytes = 1024 }, EventType.Feature);
        var batch = new ExportBatch(events);
        using BatchEncoding encoding = await encoder.BeginAsync(batch, FlushTime, exporterSettings: null, TestContext.Current.CancellationToken);
        int parts = 0;

        ExportEncodingException error = await Assert.ThrowsAsync<ExportEncodingException>(async () =>
        {
            await foreach (EncodedPart part in encoding.EncodePartsAsync("", events, isWritten: null, TestContext.Current.CancellationToken))
            {
                part.Dispose();
                parts++;
            }
        });

        Assert.Equal(ExportFileEncoder.MaxSuffix + 1, parts);
        Assert.True(((IExportFailure)error).IsPermanent);
        Assert.Contains("MaxBatchBytes 1024", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportAsync_RestartedBeforeAnyPartWasRecorded_UsesTheNewOptions()
    {
        using var folder = new TempDirectory();
        FeatureEvent[] events = PartTestEvents.Create(50);
        var records = new RestartableRecords("afresh", events.Length);
        records.FailPersist(2); // the encoding is on disk, the first part's range is not
        var clock = new FakeTimeProvider(FlushTime);
        using (var before = new FileExporter(new FileExporterOptions { OutputDir = folder.Path, Filename = "batch.{{ .Format}}", MaxBatchBytes = 4096 }, timeProvider: clock))
        {
            _ = await Assert.ThrowsAsync<IOException>(() => before.ExportAsync(new ExportBatch(events, records.State, 1), TestContext.Current.CancellationToken));
        }

        records.Restart();
        using (var after = new FileExporter(new FileExporterOptions { OutputDir = folder.Path, Filename = "batch.{{ .Format}}", Format = "CSV" }, timeProvider: clock))
        {
            await after.ExportAsync(new ExportBatch(events, records.State, 2), TestContext.Current.CancellationToken);
        }

        Assert.Equal(["batch.csv"], folder.FileNames());
        Assert.Equal(events.Select(e => e.UserKey), WrittenEvents.UserKeys(folder.Path));
    }
}

namespace FlagExport.Tests.Exporters;

/// <summary><see cref="ExportBatch.RecordAsync"/> with a durable store: a record is on disk when the call returns.</summary>
public sealed class ExportBatchRecordTests
{
    [Fact]
    public async Task RecordAsync_SameValueAgainAfterItsWriteFailed_WritesItThisTime()
    {
        var records = new RestartableRecords("record", 1);
        var batch = new ExportBatch([new FeatureEvent { Key = "k", UserKey = "u" }], records.State, 1);
        records.FailPersist(1);
        _ = await Assert.ThrowsAsync<IOException>(() => batch.RecordAsync("name", "file.json", TestContext.Current.CancellationToken).AsTask());

        // The retry records the same name before it makes the file visible: it must reach the disk now.
        await batch.RecordAsync("name", "file.json", TestContext.Current.CancellationToken);
        records.Restart();

        Assert.Equal("file.json", new ExportBatch(batch.Events, records.State, 2).GetRecorded("name"));
    }

    [Fact]
    public async Task RecordAsync_SameValueAlreadyOnDisk_DoesNotWriteAgain()
    {
        var records = new RestartableRecords("record", 1);
        var batch = new ExportBatch([new FeatureEvent { Key = "k", UserKey = "u" }], records.State, 1);
        await batch.RecordAsync("name", "file.json", TestContext.Current.CancellationToken);

        await batch.RecordAsync("name", "file.json", TestContext.Current.CancellationToken);

        Assert.Equal(1, records.Persists);
    }
}

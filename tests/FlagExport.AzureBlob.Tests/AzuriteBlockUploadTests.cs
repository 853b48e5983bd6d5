using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FlagExport.AzureBlob.Tests.Support;

namespace FlagExport.AzureBlob.Tests;

/// <summary>
/// Blobs above <see cref="AzureBlobExporterOptions.SingleUploadThreshold"/>, against Azurite: staged blocks and one
/// conditional commit of the block list, which never replaces another writer's blob and whose lost answer is recognised.
/// </summary>
public sealed class AzuriteBlockUploadTests(AzuriteServer azurite)
{
    private const long OneMiB = 1024 * 1024;

    [Fact]
    public async Task ExportAsync_AboveTheThreshold_StagedBlocksCommittedAsOneBlobThatIsTheLocalFile()
    {
        BlobContainerClient container = await (await azurite.RequireAsync()).NewContainerAsync();
        AzureBlobExporterOptions options = BlockOptions(container);
        FeatureEvent[] events = LargeEvents(2_500, "blocks"); // about 3 MB of JSON lines
        using var exporter = new AzureBlobExporter(options, container) { Writer = { Reservations = new ObjectNameReservations() } };

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        Assert.Equal(["batch.json"], await BlobRead.NamesAsync(container));
        BlockList blocks = (await container.GetBlockBlobClient("batch.json").GetBlockListAsync(cancellationToken: TestContext.Current.CancellationToken)).Value;
        Assert.True(blocks.CommittedBlocks.Count() >= 3, $"{blocks.CommittedBlocks.Count()} committed blocks");
        Assert.All(blocks.CommittedBlocks, b => Assert.InRange(b.SizeLong, 1, OneMiB));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), await BlobRead.BodyAsync(container, "batch.json"));
    }

    [Fact]
    public async Task ExportAsync_AboveTheThresholdOntoATakenName_CommitIsRefusedAndTheNextNameIsUsed()
    {
        BlobContainerClient container = await (await azurite.RequireAsync()).NewContainerAsync();
        _ = await container.GetBlobClient("batch.json").UploadAsync(BinaryData.FromString("other writer"), TestContext.Current.CancellationToken);
        AzureBlobExporterOptions options = BlockOptions(container);
        FeatureEvent[] events = LargeEvents(2_500, "taken");
        using var exporter = new AzureBlobExporter(options, container) { Writer = { Reservations = new ObjectNameReservations() } };

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        Assert.Equal(["batch-1.json", "batch.json"], await BlobRead.NamesAsync(container));
        Assert.Equal("other writer", (await container.GetBlobClient("batch.json").DownloadContentAsync(TestContext.Current.CancellationToken)).Value.Content.ToString());
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), await BlobRead.BodyAsync(container, "batch-1.json"));
    }

    [Fact]
    public async Task ExportAsync_CommitAnswerLost_RetryWritesNothingNew()
    {
        AzuriteServer server = await azurite.RequireAsync();
        var lose = new LoseAnswers(1, query => query.Contains("comp=blocklist", StringComparison.Ordinal));
        var clientOptions = new BlobClientOptions();
        clientOptions.AddPolicy(lose, HttpPipelinePosition.PerCall);
        BlobContainerClient container = await server.NewContainerAsync(clientOptions);
        AzureBlobExporterOptions options = BlockOptions(container);
        FeatureEvent[] events = LargeEvents(2_500, "lostcommit");
        var batch = new ExportBatch(events);
        using var exporter = new AzureBlobExporter(options, container) { Writer = { Reservations = new ObjectNameReservations() } };

        _ = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        Assert.Equal(["batch.json"], await BlobRead.NamesAsync(container)); // committed, though the exporter never heard so
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

        Assert.Equal(1, lose.Lost);
        Assert.Equal(["batch.json"], await BlobRead.NamesAsync(container));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), await BlobRead.BodyAsync(container, "batch.json"));
    }

    /// <summary>Blocks from 1 MiB, of 1 MiB.</summary>
    private static AzureBlobExporterOptions BlockOptions(BlobContainerClient container) => new()
    {
        Container = container.Name, Filename = "batch.{{ .Format}}", SingleUploadThreshold = OneMiB, BlockSize = OneMiB,
    };

    /// <summary>Events of about 1.2 KB each as JSON, with distinct user keys.</summary>
    private static FeatureEvent[] LargeEvents(int count, string tag)
    {
        string padding = new('x', 1_000);
        return
        [
            .. Enumerable.Range(0, count).Select(i => new FeatureEvent
            {
                UserKey = $"{tag}-{i:D7}",
                CreationDate = ObjectStoreEvents.CreationDate,
                Key = "large",
                Variation = "on",
                Value = FlagValue.FromString($"{i}-{padding}"),
            }),
        ];
    }
}

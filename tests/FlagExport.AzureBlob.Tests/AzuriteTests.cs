using Amazon.Runtime;
using Amazon.S3;
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FlagExport.AzureBlob.Tests.Support;
using FlagExport.S3;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.AzureBlob.Tests;

/// <summary>The exporter against a real Blob service, Azurite: bytes, names, conditional creates and retries.</summary>
public sealed class AzuriteTests(AzuriteServer azurite)
{
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Theory]
    [InlineData("JSON", "json", "application/x-ndjson")]
    [InlineData("CSV", "csv", "text/csv")]
    [InlineData("Parquet", "parquet", "application/vnd.apache.parquet")]
    public async Task ExportAsync_EachFormat_BlobReadBackIsByteForByteWhatTheS3AndFileExportersWrite(string format, string extension, string contentType)
    {
        BlobContainerClient container = await (await azurite.RequireAsync()).NewContainerAsync();
        var options = new AzureBlobExporterOptions { Container = container.Name, Path = "p/", Format = format, Filename = "batch-{{ .Timestamp}}.{{ .Format}}" };
        FeatureEvent[] events = ObjectStoreEvents.Create(300, extension);
        var batch = new ExportBatch(events);
        using var exporter = new AzureBlobExporter(options, container, timeProvider: new FakeTimeProvider(FlushTime)) { Writer = { Reservations = new ObjectNameReservations() } };

        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

        string name = $"p/batch-1617970800.{extension}";
        Assert.Equal([name], await BlobRead.NamesAsync(container));
        BlobDownloadResult blob = (await container.GetBlobClient(name).DownloadContentAsync(TestContext.Current.CancellationToken)).Value;
        byte[] body = blob.Content.ToArray();
        Assert.Equal(await S3BytesAsync(format, events), body);
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), body);
        Assert.Equal(contentType, blob.Details.ContentType);
        Assert.Equal(batch.Id, blob.Details.Metadata[SdkBlobContainer.WriteIdMetadataKey]);
        Assert.Equal($"{container.Uri.AbsoluteUri}/{name}", Assert.Single(batch.Written).Location); // the blob's own URL, in the pipeline's log line
    }

    [Fact]
    public async Task ExportAsync_SecondFlushInTheSameSecond_GetsMinusOne()
    {
        BlobContainerClient container = await (await azurite.RequireAsync()).NewContainerAsync();
        var options = new AzureBlobExporterOptions { Container = container.Name, Filename = "batch-{{ .Timestamp}}.{{ .Format}}" };
        using var exporter = new AzureBlobExporter(options, container, timeProvider: new FakeTimeProvider(FlushTime)) { Writer = { Reservations = new ObjectNameReservations() } };

        await exporter.ExportAsync(ObjectStoreEvents.Create(2, "first"), TestContext.Current.CancellationToken);
        await exporter.ExportAsync(ObjectStoreEvents.Create(2, "second"), TestContext.Current.CancellationToken);

        Assert.Equal(["batch-1617970800-1.json", "batch-1617970800.json"], await BlobRead.NamesAsync(container));
    }

    [Fact]
    public async Task ExportAsync_AnotherProcessTookTheName_ServerRefusesTheOverwriteAndTheNextNameIsUsed()
    {
        // A new name memory stands for another process: only If-None-Match: * keeps the existing blob.
        BlobContainerClient container = await (await azurite.RequireAsync()).NewContainerAsync();
        _ = await container.GetBlobClient("batch.json").UploadAsync(BinaryData.FromString("other writer"), TestContext.Current.CancellationToken);
        var options = new AzureBlobExporterOptions { Container = container.Name, Filename = "batch.{{ .Format}}" };
        FeatureEvent[] events = ObjectStoreEvents.Create(3, "mine");
        using var exporter = new AzureBlobExporter(options, container) { Writer = { Reservations = new ObjectNameReservations() } };

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        Assert.Equal(["batch-1.json", "batch.json"], await BlobRead.NamesAsync(container));
        Assert.Equal("other writer", (await container.GetBlobClient("batch.json").DownloadContentAsync(TestContext.Current.CancellationToken)).Value.Content.ToString());
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), await BlobRead.BodyAsync(container, "batch-1.json"));
    }

    [Fact]
    public async Task ExportAsync_RetryAfterTheAnswerWasLost_WritesNothingNew()
    {
        AzuriteServer server = await azurite.RequireAsync();
        var lose = new LoseAnswers(1);
        var clientOptions = new BlobClientOptions();
        clientOptions.AddPolicy(lose, HttpPipelinePosition.PerCall);
        BlobContainerClient container = await server.NewContainerAsync(clientOptions);
        var options = new AzureBlobExporterOptions { Container = container.Name, Filename = "batch.{{ .Format}}" };
        FeatureEvent[] events = ObjectStoreEvents.Create(5, "lost");
        var batch = new ExportBatch(events);
        using var exporter = new AzureBlobExporter(options, container) { Writer = { Reservations = new ObjectNameReservations() } };

        var failure = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        Assert.False(failure.IsPermanent);
        Assert.Equal(["batch.json"], await BlobRead.NamesAsync(container)); // written, though the exporter never heard so
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken); // the pipeline's retry: same batch

        Assert.Equal(1, lose.Lost);
        Assert.Equal(["batch.json"], await BlobRead.NamesAsync(container));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), await BlobRead.BodyAsync(container, "batch.json"));
    }

    [Fact]
    public async Task VerifyContainerAsync_MissingContainer_PermanentFailureNamingIt()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient missing = server.CreateClient().GetBlobContainerClient("flagexport-no-such-container");
        using var exporter = new AzureBlobExporter(new AzureBlobExporterOptions { Container = missing.Name }, missing);

        var failure = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.VerifyContainerAsync(TestContext.Current.CancellationToken));

        Assert.True(failure.IsPermanent);
        Assert.Contains("Blob container 'flagexport-no-such-container'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("the container does not exist", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportAsync_OwnClientFromAccountNameKeyAndServiceUrl_Writes()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient container = await server.NewContainerAsync();
        var options = new AzureBlobExporterOptions
        {
            Container = container.Name, AccountName = AzuriteServer.Account, AccountKey = AzuriteServer.AccountKey, ServiceUrl = server.ServiceUrl,
            Filename = "batch.{{ .Format}}",
        };
        using AzureBlobExporter exporter = await AzureBlobExporter.CreateAsync(options, cancellationToken: TestContext.Current.CancellationToken);

        await exporter.ExportAsync(ObjectStoreEvents.Create(1, "own"), TestContext.Current.CancellationToken);

        Assert.Equal(["batch.json"], await BlobRead.NamesAsync(container));
    }

    /// <summary>What the S3 exporter uploads for <paramref name="events"/> in one object (no request is made).</summary>
    private static async Task<byte[]> S3BytesAsync(string format, FeatureEvent[] events)
    {
        using var s3 = new AmazonS3Client(new AnonymousAWSCredentials(), new AmazonS3Config { ServiceURL = "http://127.0.0.1:1" });
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = "unused", Format = format }, s3);
        (PooledBufferWriter content, _) = await ((IEncodingExporter)exporter).EncodeObjectAsync(events, TestContext.Current.CancellationToken);
        using (content)
        {
            return content.WrittenSpan.ToArray();
        }
    }
}

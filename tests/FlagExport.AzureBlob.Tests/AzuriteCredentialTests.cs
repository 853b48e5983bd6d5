using Azure.Storage.Blobs;
using FlagExport.AzureBlob.Tests.Support;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.AzureBlob.Tests;

/// <summary>
/// Each credential source of the exporter's own client writes a real blob to Azurite: a connection string from the
/// environment, <c>AZURE_STORAGE_KEY</c> with the account name, and the options' key (warned about) before the variable.
/// </summary>
public sealed class AzuriteCredentialTests(AzuriteServer azurite)
{
    [Fact]
    public async Task ConnectionStringFromTheEnvironment_WritesTheBlob_WithoutAccountNameOrServiceUrl()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient container = await server.NewContainerAsync();
        string connectionString =
            $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.Account};AccountKey={AzuriteServer.AccountKey};BlobEndpoint={server.ServiceUrl};";
        var options = new AzureBlobExporterOptions { Container = container.Name, Filename = "batch.{{ .Format}}" };

        await ExportOwnClientAsync(options, name => name == "AZURE_STORAGE_CONNECTION_STRING" ? connectionString : null, new FakeLogger());

        Assert.Equal(["batch.json"], await BlobRead.NamesAsync(container));
    }

    [Fact]
    public async Task AccountKeyVariable_WithAccountName_WritesTheBlob_WithoutAWarning()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient container = await server.NewContainerAsync();
        var options = new AzureBlobExporterOptions
        {
            Container = container.Name, AccountName = AzuriteServer.Account, ServiceUrl = server.ServiceUrl, Filename = "batch.{{ .Format}}",
        };
        var logger = new FakeLogger();

        await ExportOwnClientAsync(options, name => name == "AZURE_STORAGE_KEY" ? AzuriteServer.AccountKey : null, logger);

        Assert.Equal(["batch.json"], await BlobRead.NamesAsync(container));
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), record => record.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task AccountKeyOption_WinsOverAWrongKeyVariable_AndIsWarnedAbout()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient container = await server.NewContainerAsync();
        var options = new AzureBlobExporterOptions
        {
            Container = container.Name, AccountName = AzuriteServer.Account, AccountKey = AzuriteServer.AccountKey, ServiceUrl = server.ServiceUrl,
            Filename = "batch.{{ .Format}}",
        };
        string wrongKey = Convert.ToBase64String(new byte[64]);
        var logger = new FakeLogger();

        await ExportOwnClientAsync(options, name => name == "AZURE_STORAGE_KEY" ? wrongKey : null, logger);

        Assert.Equal(["batch.json"], await BlobRead.NamesAsync(container));
        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), record => record.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Contains($"The account key of container '{container.Name}' is read from the configuration; prefer AZURE_STORAGE_KEY", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteServer.AccountKey, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKeyVariable_IsRefusedByTheService_NamingTheAccount()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient container = await server.NewContainerAsync();
        var options = new AzureBlobExporterOptions { Container = container.Name, AccountName = AzuriteServer.Account, ServiceUrl = server.ServiceUrl };
        string wrongKey = Convert.ToBase64String(new byte[64]);
        using var exporter = new AzureBlobExporter(options, container: null, name => name == "AZURE_STORAGE_KEY" ? wrongKey : null, EventType.Feature, null, null);

        var error = await Assert.ThrowsAsync<AzureBlobExportException>(() => exporter.VerifyContainerAsync(TestContext.Current.CancellationToken));

        Assert.Contains("cannot be used: access denied", error.Message, StringComparison.Ordinal); // Azurite answers 403 AuthorizationFailure
        Assert.Contains($"at {server.ServiceUrl.AbsoluteUri.TrimEnd('/')}/", error.Message, StringComparison.Ordinal); // the account, path-style on Azurite
    }

    /// <summary>An exporter building its own client with <paramref name="environment"/>: checks the container and writes one batch.</summary>
    private static async Task ExportOwnClientAsync(AzureBlobExporterOptions options, Func<string, string?> environment, FakeLogger logger)
    {
        using var exporter = new AzureBlobExporter(options, container: null, environment, EventType.Feature, timeProvider: null, logger) { Writer = { Reservations = new ObjectNameReservations() } };
        await exporter.VerifyContainerAsync(TestContext.Current.CancellationToken);
        await exporter.ExportAsync(new ExportBatch(ObjectStoreEvents.Create(3, "credentials")), TestContext.Current.CancellationToken);
    }
}

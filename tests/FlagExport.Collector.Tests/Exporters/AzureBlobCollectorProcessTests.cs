using System.Net;
using System.Text;
using Azure.Storage.Blobs;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Exporters;

/// <summary>
/// The real executable with an <c>azureBlobStorage</c> exporter from YAML, go-feature-flag's keys, against Azurite:
/// SIGTERM writes what is buffered; a missing container stops start-up; the account key in the file is warned about;
/// the credentials come from the environment when the file has none, and their absence is one line naming what was tried.
/// </summary>
public sealed class AzureBlobCollectorProcessTests(AzuriteServer azurite) : IDisposable
{
    /// <summary>Every variable the exporter or DefaultAzureCredential reads, so that a test chooses its credentials alone.</summary>
    private static readonly string[] AzureCredentialVariables =
    [
        "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_USERNAME", "AZURE_PASSWORD",
        "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "AZURE_TOKEN_CREDENTIALS", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
        "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
    ];

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Sigterm_WritesTheBufferedEventsAsABlob_AndExitsZero()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient container = await server.NewContainerAsync();
        using CollectorProcess collector = await YamlCollector.ServeAsync(_directory, $"""
            exporters:
              - kind: azureBlobStorage
                container: {container.Name}
                accountName: {AzuriteServer.Account}
                accountKey: {AzuriteServer.AccountKey}
                serviceUrl: {server.ServiceUrl}
                path: flags/dt={"{{ .Year}}-{{ .Month}}-{{ .Day}}"}/
                format: csv
                flushInterval: 3600000
            """);
        Assert.Equal(HttpStatusCode.OK, (await collector.PostEventsAsync(YamlCollector.OneFeatureEvent)).StatusCode);

        Assert.Equal(0, await collector.StopAsync());
        (string name, byte[] body) = Assert.Single(await BlobRead.ReadAllAsync(container));
        Assert.StartsWith("flags/dt=2023-11-14/", name, StringComparison.Ordinal);
        Assert.EndsWith(".csv", name, StringComparison.Ordinal);
        Assert.Equal(YamlCollector.OneFeatureEventCsv, Encoding.UTF8.GetString(body));
        Assert.Contains("The account key of container", collector.Output, StringComparison.Ordinal); // the start-up warning
        Assert.DoesNotContain(AzuriteServer.AccountKey, collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingContainer_StopsStartUp_WithExitCode1()
    {
        AzuriteServer server = await azurite.RequireAsync();
        using CollectorProcess collector = await YamlCollector.ServeAsync(_directory, $"""
            exporters:
              - kind: azureBlobStorage
                container: no-such-container-{Guid.NewGuid():N}
                accountName: {AzuriteServer.Account}
                accountKey: {AzuriteServer.AccountKey}
                serviceUrl: {server.ServiceUrl}
            """);

        Assert.Equal(1, await collector.WaitForExitAsync());
        Assert.Contains("Cannot start the collector: Blob container 'no-such-container-", collector.Output, StringComparison.Ordinal);
        Assert.Contains("the container does not exist", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateCheckConnectivity_NamesTheMissingContainerByItsKey_AndPassesTheExistingOne()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient existing = await server.NewContainerAsync();
        string missing = $"no-such-container-{Guid.NewGuid():N}";
        string yaml = $"""
            exporters:
              - kind: azureBlobStorage
                container: {existing.Name}
                accountName: {AzuriteServer.Account}
                accountKey: {AzuriteServer.AccountKey}
                serviceUrl: {server.ServiceUrl}
              - kind: azureBlobStorage
                container: {missing}
                accountName: {AzuriteServer.Account}
                accountKey: {AzuriteServer.AccountKey}
                serviceUrl: {server.ServiceUrl}
            """;

        using (CollectorProcess offline = await YamlCollector.ValidateAsync(_directory, yaml, checkConnectivity: false))
        {
            Assert.Equal(0, await offline.WaitForExitAsync()); // no request without --check-connectivity
        }

        using CollectorProcess collector = await YamlCollector.ValidateAsync(_directory, yaml, checkConnectivity: true);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains($"exporters[1].container: Blob container '{missing}'", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("exporters[0]", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateCheckConnectivity_GoodContainer_Passes_AndMissingOne_NamesTheContainerAndTheAccount()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient existing = await server.NewContainerAsync();
        string missing = $"no-such-container-{Guid.NewGuid():N}";
        var environment = new Dictionary<string, string> { ["AZURE_STORAGE_KEY"] = AzuriteServer.AccountKey };
        using (CollectorProcess good = await YamlCollector.ValidateAsync(_directory, $"""
            exporters:
              - kind: azureBlobStorage
                container: {existing.Name}
                accountName: {AzuriteServer.Account}
                serviceUrl: {server.ServiceUrl}
            """, checkConnectivity: true, environment, AzureCredentialVariables))
        {
            Assert.Equal(0, await good.WaitForExitAsync());
            Assert.Contains("configuration and connectivity OK: 1 exporter(s)", good.Output, StringComparison.Ordinal);
            Assert.Contains($"container '{existing.Name}'", good.Output, StringComparison.Ordinal);
        }

        using CollectorProcess collector = await YamlCollector.ValidateAsync(_directory, $"""
            exporters:
              - kind: azureBlobStorage
                container: {missing}
                accountName: {AzuriteServer.Account}
                serviceUrl: {server.ServiceUrl}
            """, checkConnectivity: true, environment, AzureCredentialVariables);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains(
            $"exporters[0].container: Blob container '{missing}' at {server.ServiceUrl.AbsoluteUri.TrimEnd('/')}/ cannot be used: the container does not exist.",
            collector.Output,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionStringFromTheEnvironment_WithOnlyTheContainerInTheFile_WritesTheBlob()
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient container = await server.NewContainerAsync();
        var environment = new Dictionary<string, string>
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] =
                $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.Account};AccountKey={AzuriteServer.AccountKey};BlobEndpoint={server.ServiceUrl};",
        };
        using CollectorProcess collector = await YamlCollector.ServeAsync(_directory, $"""
            exporters:
              - kind: azureBlobStorage
                container: {container.Name}
                flushInterval: 3600000
            """, environment, AzureCredentialVariables);
        Assert.Equal(HttpStatusCode.OK, (await collector.PostEventsAsync(YamlCollector.OneFeatureEvent)).StatusCode);

        Assert.Equal(0, await collector.StopAsync());
        Assert.EndsWith(".json", Assert.Single(await BlobRead.NamesAsync(container)), StringComparison.Ordinal);
        Assert.DoesNotContain("The account key of container", collector.Output, StringComparison.Ordinal); // no key in the file, no warning
    }

    [Fact]
    public async Task ValidateCheckConnectivity_NoCredentials_FailsWithOneLineNamingWhatWasTried()
    {
        // No key, no connection string: DefaultAzureCredential. AZURE_TOKEN_CREDENTIALS keeps its chain to the credentials
        // that need no network or developer tool, so the check fails at once, as on a host with no identity.
        var environment = new Dictionary<string, string> { ["AZURE_TOKEN_CREDENTIALS"] = "EnvironmentCredential" };
        using CollectorProcess collector = await YamlCollector.ValidateAsync(_directory, $"""
            exporters:
              - kind: azureBlobStorage
                container: events
                accountName: {AzuriteServer.Account}
            """, checkConnectivity: true, environment, AzureCredentialVariables);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        string line = Assert.Single(collector.Output.Split('\n'), l => l.Contains("exporters[0].container", StringComparison.Ordinal)).Trim();
        Assert.Equal(
            "exporters[0].container: Blob container 'events' at https://devstoreaccount1.blob.core.windows.net/ cannot be used: no credentials: "
            + "neither an account key (AccountKey, or AZURE_STORAGE_KEY with AccountName) nor a connection string "
            + "(AZURE_STORAGE_CONNECTION_STRING, without AccountName and ServiceUrl) applies, and DefaultAzureCredential got no token "
            + "(EnvironmentCredential authentication unavailable); set one of them, or give this process an Entra ID identity.",
            line);
        Assert.DoesNotContain("   at ", collector.Output, StringComparison.Ordinal); // no stack trace
    }
}

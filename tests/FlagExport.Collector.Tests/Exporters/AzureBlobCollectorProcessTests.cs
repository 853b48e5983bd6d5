using System.Net;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
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
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            exporters:
              - kind: azureBlobStorage
                container: {container.Name}
                accountName: {AzuriteServer.Account}
                accountKey: {AzuriteServer.AccountKey}
                serviceUrl: {server.ServiceUrl}
                path: flags/dt={"{{ .Year}}-{{ .Month}}-{{ .Day}}"}/
                format: csv
                flushInterval: 3600000
            """, TestContext.Current.CancellationToken);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string address = await collector.WaitUntilListeningAsync();
        using var client = new HttpClient();
        HttpResponseMessage response = await client.PostAsync(
            address + "/v1/data/collector",
            new StringContent("""{"events":[{"kind":"feature","contextKind":"user","userKey":"u","creationDate":1700000000,"key":"k","variation":"v","value":1}]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        collector.Signal("TERM");

        Assert.Equal(0, await collector.WaitForExitAsync());
        var names = new List<string>();
        await foreach (BlobItem item in container.GetBlobsAsync(cancellationToken: TestContext.Current.CancellationToken))
        {
            names.Add(item.Name);
        }

        string name = Assert.Single(names);
        Assert.StartsWith("flags/dt=2023-11-14/", name, StringComparison.Ordinal);
        Assert.EndsWith(".csv", name, StringComparison.Ordinal);
        BinaryData body = (await container.GetBlobClient(name).DownloadContentAsync(TestContext.Current.CancellationToken)).Value.Content;
        Assert.Equal("feature;user;u;1700000000;k;v;1;false;PROVIDER_CACHE\n", body.ToString());
        Assert.Contains("The account key of container", collector.Output, StringComparison.Ordinal); // the start-up warning
        Assert.DoesNotContain(AzuriteServer.AccountKey, collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingContainer_StopsStartUp_WithExitCode1()
    {
        AzuriteServer server = await azurite.RequireAsync();
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            exporters:
              - kind: azureBlobStorage
                container: no-such-container-{Guid.NewGuid():N}
                accountName: {AzuriteServer.Account}
                accountKey: {AzuriteServer.AccountKey}
                serviceUrl: {server.ServiceUrl}
            """, TestContext.Current.CancellationToken);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);

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
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
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
            """, TestContext.Current.CancellationToken);

        using (CollectorProcess offline = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml"]))
        {
            Assert.Equal(0, await offline.WaitForExitAsync()); // no request without --check-connectivity
        }

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml", "--check-connectivity"]);

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
        await File.WriteAllTextAsync(_directory.Combine("good.yaml"), $"""
            exporters:
              - kind: azureBlobStorage
                container: {existing.Name}
                accountName: {AzuriteServer.Account}
                serviceUrl: {server.ServiceUrl}
            """, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(_directory.Combine("missing.yaml"), $"""
            exporters:
              - kind: azureBlobStorage
                container: {missing}
                accountName: {AzuriteServer.Account}
                serviceUrl: {server.ServiceUrl}
            """, TestContext.Current.CancellationToken);

        using (CollectorProcess good = CollectorProcess.Start(
            _directory.Path, ["validate", "--config", "good.yaml", "--check-connectivity"], environment, unset: AzureCredentialVariables))
        {
            Assert.Equal(0, await good.WaitForExitAsync());
            Assert.Contains("configuration and connectivity OK: 1 exporter(s)", good.Output, StringComparison.Ordinal);
            Assert.Contains($"container '{existing.Name}'", good.Output, StringComparison.Ordinal);
        }

        using CollectorProcess collector = CollectorProcess.Start(
            _directory.Path, ["validate", "--config", "missing.yaml", "--check-connectivity"], environment, unset: AzureCredentialVariables);

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
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            exporters:
              - kind: azureBlobStorage
                container: {container.Name}
                flushInterval: 3600000
            """, TestContext.Current.CancellationToken);
        var environment = new Dictionary<string, string>
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] =
                $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.Account};AccountKey={AzuriteServer.AccountKey};BlobEndpoint={server.ServiceUrl};",
        };
        using CollectorProcess collector = CollectorProcess.Start(
            _directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"], environment, unset: AzureCredentialVariables);
        string address = await collector.WaitUntilListeningAsync();
        using var client = new HttpClient();
        HttpResponseMessage response = await client.PostAsync(
            address + "/v1/data/collector",
            new StringContent("""{"events":[{"kind":"feature","contextKind":"user","userKey":"u","creationDate":1700000000,"key":"k","variation":"v","value":1}]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        collector.Signal("TERM");

        Assert.Equal(0, await collector.WaitForExitAsync());
        var names = new List<string>();
        await foreach (BlobItem item in container.GetBlobsAsync(cancellationToken: TestContext.Current.CancellationToken))
        {
            names.Add(item.Name);
        }

        Assert.EndsWith(".json", Assert.Single(names), StringComparison.Ordinal);
        Assert.DoesNotContain("The account key of container", collector.Output, StringComparison.Ordinal); // no key in the file, no warning
    }

    [Fact]
    public async Task ValidateCheckConnectivity_NoCredentials_FailsWithOneLineNamingWhatWasTried()
    {
        // No key, no connection string: DefaultAzureCredential. AZURE_TOKEN_CREDENTIALS keeps its chain to the credentials
        // that need no network or developer tool, so the check fails at once, as on a host with no identity.
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            exporters:
              - kind: azureBlobStorage
                container: events
                accountName: {AzuriteServer.Account}
            """, TestContext.Current.CancellationToken);
        var environment = new Dictionary<string, string> { ["AZURE_TOKEN_CREDENTIALS"] = "EnvironmentCredential" };
        using CollectorProcess collector = CollectorProcess.Start(
            _directory.Path, ["validate", "--config", "collector.yaml", "--check-connectivity"], environment, unset: AzureCredentialVariables);

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

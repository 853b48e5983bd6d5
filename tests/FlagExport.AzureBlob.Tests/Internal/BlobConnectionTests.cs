namespace FlagExport.AzureBlob.Tests.Internal;

/// <summary>
/// The order of the credential sources of the exporter's own client: the options' key, the connection string, the key
/// from the environment, then DefaultAzureCredential. Chosen without a request (a token credential cannot be inspected).
/// </summary>
public sealed class BlobConnectionTests
{
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private const string ConnectionString = "DefaultEndpointsProtocol=http;AccountName=other;AccountKey=" + Key + ";BlobEndpoint=http://127.0.0.1:10000/other;";

    [Fact]
    public void Choose_AccountKeyInTheOptions_WinsOverEveryVariable()
    {
        var options = new AzureBlobExporterOptions { Container = "events", AccountName = "acct", AccountKey = "from-options" };

        BlobConnection connection = BlobConnection.Choose(options, "events", Environment(ConnectionString, "from-variable"));

        Assert.Equal(BlobCredentialSource.AccountKeyOption, connection.Source);
        Assert.Equal("from-options", connection.Secret);
        Assert.Equal("acct", connection.AccountName);
        Assert.Equal(new Uri("https://acct.blob.core.windows.net/events"), connection.ContainerUri);
    }

    [Fact]
    public void Choose_NoAccountNorServiceUrl_TakesTheConnectionString_BeforeTheKeyVariable()
    {
        BlobConnection connection = BlobConnection.Choose(new AzureBlobExporterOptions { Container = "events" }, "events", Environment(ConnectionString, Key));

        Assert.Equal(BlobCredentialSource.ConnectionString, connection.Source);
        Assert.Equal(ConnectionString, connection.Secret);
        Assert.Null(connection.ContainerUri); // the endpoint is the connection string's
    }

    [Fact]
    public void Choose_AccountNameSet_IgnoresTheConnectionStringOfAnotherAccount_AndTakesTheKeyVariable()
    {
        var options = new AzureBlobExporterOptions { Container = "events", AccountName = "acct", ServiceUrl = new Uri("http://127.0.0.1:10000/acct") };

        BlobConnection connection = BlobConnection.Choose(options, "events", Environment(ConnectionString, Key));

        Assert.Equal(BlobCredentialSource.AccountKeyVariable, connection.Source);
        Assert.Equal(Key, connection.Secret);
        Assert.Equal(new Uri("http://127.0.0.1:10000/acct/events"), connection.ContainerUri);
    }

    [Fact]
    public void Choose_NoKeyAndNoConnectionString_TakesDefaultAzureCredential_AtTheAccountsEndpoint()
    {
        var options = new AzureBlobExporterOptions { Container = "events", AccountName = "acct" };

        BlobConnection connection = BlobConnection.Choose(options, "events", Environment(connectionString: null, key: "  "));

        Assert.Equal(BlobCredentialSource.DefaultAzureCredential, connection.Source);
        Assert.Null(connection.Secret);
        Assert.Equal(new Uri("https://acct.blob.core.windows.net/events"), connection.ContainerUri);
    }

    [Fact]
    public void Choose_ServiceUrlWithoutAccountName_TakesDefaultAzureCredential_EvenWithAConnectionString()
    {
        // A configured endpoint is never swapped for the one inside a connection string.
        var options = new AzureBlobExporterOptions { Container = "events", ServiceUrl = new Uri("https://acct.blob.core.usgovcloudapi.net/") };

        BlobConnection connection = BlobConnection.Choose(options, "events", Environment(ConnectionString, Key));

        Assert.Equal(BlobCredentialSource.DefaultAzureCredential, connection.Source);
        Assert.Equal(new Uri("https://acct.blob.core.usgovcloudapi.net/events"), connection.ContainerUri);
    }

    [Fact]
    public void ToString_LeavesTheSecretOut()
    {
        var options = new AzureBlobExporterOptions { Container = "events", AccountName = "acct", AccountKey = Key };

        string text = BlobConnection.Choose(options, "events", Environment(null, null)).ToString();

        Assert.DoesNotContain(Key, text, StringComparison.Ordinal);
        Assert.Contains("AccountKeyOption", text, StringComparison.Ordinal);
    }

    private static Func<string, string?> Environment(string? connectionString, string? key) => name => name switch
    {
        BlobClientFactory.ConnectionStringVariable => connectionString,
        BlobClientFactory.AccountKeyVariable => key,
        _ => null,
    };
}

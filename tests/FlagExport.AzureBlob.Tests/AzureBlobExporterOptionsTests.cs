using FlagExport.AzureBlob.Tests.Support;

namespace FlagExport.AzureBlob.Tests;

/// <summary>Each option is checked when the exporter is created; the error names the option and the value.</summary>
public sealed class AzureBlobExporterOptionsTests
{
    [Theory]
    [InlineData("", "Container", "Container is required")]
    [InlineData("My_Container", "Container", "Container 'My_Container' is not a container name")]
    [InlineData("a/b", "Container", "Container 'a/b' is not a container name")]
    [InlineData("ab", "Container", "Container 'ab' is not a container name")]
    public void Create_InvalidContainer_NamesTheOption(string value, string option, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => AzureBlobExporterTests.Create(new AzureBlobExporterOptions { Container = value }, new InMemoryBlobContainer()));

        Assert.Equal(option, error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_CompressionWithParquet_IsRefused()
    {
        var options = new AzureBlobExporterOptions { Container = "events", Format = "parquet", Compression = "gzip" };

        var error = Assert.Throws<ArgumentException>(() => AzureBlobExporterTests.Create(options, new InMemoryBlobContainer()));

        Assert.Equal("Compression", error.ParamName);
        Assert.StartsWith("Compression 'gzip' cannot be used with Format 'Parquet'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_UnknownCompression_NamesTheValidValues()
    {
        var error = Assert.Throws<ArgumentException>(() => AzureBlobExporterTests.Create(new AzureBlobExporterOptions { Container = "events", Compression = "brotli" }, new InMemoryBlobContainer()));

        Assert.StartsWith("Compression 'brotli' is not valid; valid values are none, gzip, zstd", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_PathWithAnUnknownField_NamesPath()
    {
        var error = Assert.Throws<ArgumentException>(() => AzureBlobExporterTests.Create(new AzureBlobExporterOptions { Container = "events", Path = "{{ .Minute}}/" }, new InMemoryBlobContainer()));

        Assert.Equal("Path", error.ParamName);
    }

    [Theory]
    [InlineData(1024, 8L * 1024 * 1024, "SingleUploadThreshold")]
    [InlineData(64L * 1024 * 1024, 5000L * 1024 * 1024, "BlockSize")]
    public void Create_TransferSizeOutOfRange_NamesTheOption(long threshold, long blockSize, string option)
    {
        var options = new AzureBlobExporterOptions { Container = "events", SingleUploadThreshold = threshold, BlockSize = blockSize };

        var error = Assert.Throws<ArgumentException>(() => AzureBlobExporterTests.Create(options, new InMemoryBlobContainer()));

        Assert.Equal(option, error.ParamName);
        Assert.Contains("is out of range: it must be between 1 MiB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NoAccountNoServiceUrlNoConnectionString_AsksForAccountName()
    {
        var error = Assert.Throws<ArgumentException>(() => OwnClient(new AzureBlobExporterOptions { Container = "events" }, _ => null));

        Assert.Equal("AccountName", error.ParamName);
        Assert.Contains("AZURE_STORAGE_CONNECTION_STRING", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_AccountKeyWithoutAccountName_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => OwnClient(new AzureBlobExporterOptions { Container = "events", AccountKey = "a2V5", ServiceUrl = new Uri("http://127.0.0.1:1/x") }, _ => null));

        Assert.Equal("AccountName", error.ParamName);
    }

    [Fact]
    public void Create_AccountKeyNotBase64_NamesAccountKeyWithoutItsValue()
    {
        var error = Assert.Throws<ArgumentException>(() => OwnClient(new AzureBlobExporterOptions { Container = "events", AccountName = "acct", AccountKey = "not base64!" }, _ => null));

        Assert.Equal("AccountKey", error.ParamName);
        Assert.DoesNotContain("not base64!", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ServiceUrlNotHttp_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => OwnClient(new AzureBlobExporterOptions { Container = "events", ServiceUrl = new Uri("ftp://host/acct") }, _ => null));

        Assert.Equal("ServiceUrl", error.ParamName);
    }

    [Fact]
    public void Create_ConnectionStringFromTheEnvironment_NeedsNoAccountName()
    {
        const string Azurite = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";

        using AzureBlobExporter exporter = OwnClient(new AzureBlobExporterOptions { Container = "events" }, name => name == "AZURE_STORAGE_CONNECTION_STRING" ? Azurite : null);

        Assert.Equal("events", exporter.Container);
    }

    [Theory]
    [InlineData("not base64!", null, "AccountKey of account 'acct' is not a base64 storage account key.")]
    [InlineData(null, "not base64!", "The key in AZURE_STORAGE_KEY of account 'acct' is not a base64 storage account key.")]
    public void Create_KeyNotBase64_NamesWhereItCameFrom(string? optionKey, string? variableKey, string message)
    {
        var options = new AzureBlobExporterOptions { Container = "events", AccountName = "acct", AccountKey = optionKey };

        var error = Assert.Throws<ArgumentException>(() => OwnClient(options, name => name == "AZURE_STORAGE_KEY" ? variableKey : null));

        Assert.Equal("AccountKey", error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    private static AzureBlobExporter OwnClient(AzureBlobExporterOptions options, Func<string, string?> environment) =>
        new(options, container: null, environment, EventType.Feature, timeProvider: null, logger: null);
}

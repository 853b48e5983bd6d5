using FlagExport.AzureBlob.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.AzureBlob.Tests.Hosting;

/// <summary><c>AddAzureBlobExporter</c> in a host: options from configuration, start-up checks, flush on stop.</summary>
public sealed class AddAzureBlobExporterTests(AzuriteServer azurite)
{
    [Fact]
    public async Task StopAsync_WritesWhatWasAddedWithOptionsFromConfiguration()
    {
        AzuriteServer server = await azurite.RequireAsync();
        Azure.Storage.Blobs.BlobContainerClient container = await server.NewContainerAsync();
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:azureBlob:Container"] = container.Name,
            ["FlagExport:Exporters:azureBlob:AccountName"] = AzuriteServer.Account,
            ["FlagExport:Exporters:azureBlob:AccountKey"] = AzuriteServer.AccountKey,
            ["FlagExport:Exporters:azureBlob:ServiceUrl"] = server.ServiceUrl.AbsoluteUri,
            ["FlagExport:Exporters:azureBlob:Path"] = "flags/dt={{ .Year}}-{{ .Month}}-{{ .Day}}/",
            ["FlagExport:Exporters:azureBlob:Format"] = "csv",
            ["FlagExport:Exporters:azureBlob:Compression"] = "gzip",
            ["FlagExport:Exporters:azureBlob:FlushInterval"] = "00:10:00",
        });
        _ = builder.Services.AddFlagExport(export => export.AddAzureBlobExporter(configure: blob => blob.Filename = "hosted-{{ .Timestamp}}.{{ .Format}}"));
        using (IHost host = builder.Build())
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            Assert.True(host.Services.GetRequiredService<IFlagEventSink>().Add(new FeatureEvent { UserKey = "ABCD", Key = "k", Value = "YO", CreationDate = 1617970547 }));
            await host.StopAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal(["flags/dt=2021-04-09/hosted-1617970800.csv.gz"], await BlobRead.NamesAsync(container));
    }

    [Fact]
    public async Task StartAsync_MissingContainer_StopsTheHost()
    {
        AzuriteServer server = await azurite.RequireAsync();
        HostApplicationBuilder builder = CreateBuilder([]);
        _ = builder.Services.AddFlagExport(export => export.AddAzureBlobExporter(
            "audit", blob => blob.Container = "flagexport-no-such-container", containerClient: _ => server.CreateClient().GetBlobContainerClient("flagexport-no-such-container")));
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<AzureBlobExportException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("the container does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_InvalidOption_NamesTheConfigurationKeyAndValue()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:azureBlob:Container"] = "events",
            ["FlagExport:Exporters:azureBlob:AccountName"] = "acct",
            ["FlagExport:Exporters:azureBlob:Format"] = "Parquet",
            ["FlagExport:Exporters:azureBlob:Compression"] = "zstd",
        });
        _ = builder.Services.AddFlagExport(export => export.AddAzureBlobExporter());
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith("FlagExport:Exporters:azureBlob:Compression 'zstd' cannot be used with Format 'Parquet'", error.Message, StringComparison.Ordinal);
    }

    private static HostApplicationBuilder CreateBuilder(Dictionary<string, string?> configuration)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        _ = builder.Configuration.AddInMemoryCollection(configuration);
        _ = builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1617970800)));
        return builder;
    }
}

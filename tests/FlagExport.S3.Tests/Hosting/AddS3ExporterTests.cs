using Amazon.S3;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.S3.Tests.Hosting;

/// <summary><c>AddS3Exporter</c> in a host: options from configuration, start-up checks, flush on stop.</summary>
public sealed class AddS3ExporterTests
{
    [Fact]
    public async Task StopAsync_WritesWhatWasAddedWithOptionsFromConfiguration()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        string prefix = S3TestServer.NewPrefix("hosted");
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:s3:Bucket"] = server.Bucket,
            ["FlagExport:Exporters:s3:S3Path"] = prefix,
            ["FlagExport:Exporters:s3:Format"] = "csv",
            ["FlagExport:Exporters:s3:Compression"] = "gzip",
            ["FlagExport:Exporters:s3:ServiceUrl"] = server.Endpoint,
            ["FlagExport:Exporters:s3:RequestChecksumCalculation"] = "WHEN_REQUIRED",
            ["FlagExport:Exporters:s3:VerifyBucketOnStart"] = "true",
            ["FlagExport:Exporters:s3:FlushInterval"] = "00:10:00",
        });
        _ = builder.Services.AddFlagExport(export => export.AddS3Exporter(configure: s3 => s3.Filename = "hosted-{{ .Timestamp}}.{{ .Format}}"));
        using (IHost host = builder.Build())
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            Assert.True(host.Services.GetRequiredService<IFlagEventSink>().Add(new FeatureEvent { UserKey = "ABCD", Key = "k", Value = "YO" }));
            await host.StopAsync(TestContext.Current.CancellationToken);
        }

        using AmazonS3Client s3 = server.CreateClient();
        Assert.Equal([$"{prefix}hosted-1617970800.csv.gz"], await S3Read.KeysAsync(s3, server.Bucket, prefix));
    }

    [Fact]
    public async Task StartAsync_VerifyBucketOnStartWithMissingBucket_StopsTheHost()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        HostApplicationBuilder builder = CreateBuilder([]);
        _ = builder.Services.AddFlagExport(export => export.AddS3Exporter("audit", s3 =>
        {
            s3.Bucket = "flagexport-no-such-bucket";
            s3.VerifyBucketOnStart = true;
        }, s3Client: _ => server.CreateClient()));
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<S3ExportException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("S3 bucket 'flagexport-no-such-bucket'", error.Message, StringComparison.Ordinal);
        Assert.Contains("the bucket does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_InvalidOption_NamesTheConfigurationKeyAndValue()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:s3:Bucket"] = "b",
            ["FlagExport:Exporters:s3:Format"] = "Parquet",
            ["FlagExport:Exporters:s3:Compression"] = "zstd",
        });
        _ = builder.Services.AddFlagExport(export => export.AddS3Exporter());
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith("FlagExport:Exporters:s3:Compression 'zstd' cannot be used with Format 'Parquet'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddS3Exporter_SameNameTwice_IsRefusedBeforeRegisteringAnything()
    {
        var services = new ServiceCollection();
        FlagExportBuilder export = services.AddFlagExport().AddS3Exporter("s3");
        int registrations = services.Count;

        var error = Assert.Throws<ArgumentException>(() => export.AddS3Exporter("s3"));

        Assert.Contains("already registered", error.Message, StringComparison.Ordinal);
        Assert.Equal(registrations, services.Count);
    }

    private static HostApplicationBuilder CreateBuilder(Dictionary<string, string?> configuration)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        _ = builder.Configuration.AddInMemoryCollection(configuration);
        _ = builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1617970800)));
        return builder;
    }
}

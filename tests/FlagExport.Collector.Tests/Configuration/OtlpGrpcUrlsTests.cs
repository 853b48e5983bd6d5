using System.Net;
using FlagExport.Collector.Cli;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Tests.Configuration;

/// <summary><c>otlpGrpcUrls</c>: cleartext http URLs on an IP address or localhost; anything else named with its value.</summary>
public sealed class OtlpGrpcUrlsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static CollectorSettings Read(string? urls) =>
        CollectorSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["otlpGrpcUrls"] = urls }).Build());

    [Fact]
    public void NotSet_GrpcIsOff()
    {
        Assert.Empty(Read(null).OtlpGrpcUrls);
        Assert.Empty(Read("").OtlpGrpcUrls);
    }

    [Fact]
    public void SeveralUrls_SeparatedBySemicolons_AsInAspNetCoreUrls()
    {
        IReadOnlyList<OtlpGrpcAddress> addresses = Read("http://127.0.0.1:4317; http://[::1]:0;http://localhost:4318").OtlpGrpcUrls;

        Assert.Equal(
            [new("http://127.0.0.1:4317", IPAddress.Loopback, 4317), new("http://[::1]:0", IPAddress.IPv6Loopback, 0), new("http://localhost:4318", null, 4318)],
            addresses);
    }

    [Theory]
    [InlineData("https://127.0.0.1:4317", "otlpGrpcUrls: 'https://127.0.0.1:4317' has the scheme 'https'")]
    [InlineData("127.0.0.1:4317", "otlpGrpcUrls: '127.0.0.1:4317' is not an absolute URL.")]
    [InlineData("http://collector.internal:4317", "otlpGrpcUrls: 'http://collector.internal:4317' must name an IP address (0.0.0.0 or [::] for every interface) or localhost.")]
    [InlineData("http://127.0.0.1", "otlpGrpcUrls: 'http://127.0.0.1' has no port")]
    [InlineData("http://127.0.0.1:4317/v1", "otlpGrpcUrls: 'http://127.0.0.1:4317/v1' must be only a scheme, a host and a port.")]
    [InlineData("http://localhost:0", "otlpGrpcUrls: 'http://localhost:0' asks for a free port (0) on localhost")]
    [InlineData("http://127.0.0.1:4317;http://127.0.0.1:99999", "otlpGrpcUrls: 'http://127.0.0.1:99999' is not an absolute URL.")]
    public void InvalidUrl_IsAConfigurationErrorNamingTheKeyAndTheValue(string urls, string error)
    {
        CollectorConfigurationException exception = Assert.Throws<CollectorConfigurationException>(() => Read(urls));

        Assert.StartsWith(error, Assert.Single(exception.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void IsATopLevelKey_OfTheYamlFileAndTheCommandLine()
    {
        Assert.Contains("otlpGrpcUrls", CollectorApp.TopLevelKeys);
        Assert.Contains("otlpGrpcUrls", ConfigurationArguments.KnownKeys);
    }

    [Fact]
    public async Task Validate_ReportsAnInvalidUrl()
    {
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), "otlpGrpcUrls: grpc://127.0.0.1:4317\n", TestContext.Current.CancellationToken);

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains("otlpGrpcUrls: 'grpc://127.0.0.1:4317' has the scheme 'grpc'", collector.Output, StringComparison.Ordinal);
    }
}

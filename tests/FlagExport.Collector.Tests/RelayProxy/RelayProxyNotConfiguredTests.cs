using System.Net;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Tests.RelayProxy;

/// <summary>
/// Without <c>relayProxyUrl</c> the relay proxy's routes answer 404 with a message naming the setting; a bad
/// <c>relayProxyUrl</c> is refused at start, naming the key and the value.
/// </summary>
public sealed class RelayProxyNotConfiguredTests
{
    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("POST", "/v1/feature/my-flag/eval")]
    [InlineData("POST", "/v1/allflags")]
    [InlineData("POST", "/ofrep/v1/evaluate/flags")]
    [InlineData("POST", "/ofrep/v1/evaluate/flags/my-flag")]
    [InlineData("GET", "/ofrep/v1/configuration")]
    [InlineData("POST", "/v1/flag/configuration")]
    [InlineData("GET", "/v1/flag/change")]
    [InlineData("GET", "/ws/v1/flag/change")]
    [InlineData("GET", "/stream/v1/sse/flag/change")]
    [InlineData("POST", "/admin/v1/retriever/refresh")]
    public async Task RelayProxyRoute_Is404_SayingTheCollectorOnlyCollects_AndNamingRelayProxyUrl(string method, string path)
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        using HttpResponseMessage response = await collector.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            $$"""{"message":"This collector only collects events (POST /v1/data/collector); {{path}} is answered by go-feature-flag's relay proxy: set relayProxyUrl to the relay proxy's address to forward it there."}""",
            await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task RelayProxyRoutes_AreLoggedOnce()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        _ = await collector.Client.PostAsync("/v1/feature/a/eval", null, Cancellation);
        _ = await collector.Client.PostAsync("/v1/feature/b/eval", null, Cancellation);

        Assert.Single(collector.Logs().Split('\n'), line => line.Contains("set relayProxyUrl to forward these routes", StringComparison.Ordinal));
        Assert.Contains("A client asked for /v1/feature/a/eval", collector.Logs(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/unknown")]
    [InlineData("/ofrep/v2/evaluate/flags")]
    public async Task OtherUnknownPaths_KeepThePlain404(string path)
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        using HttpResponseMessage response = await collector.Client.PostAsync(path, null, Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Theory]
    [InlineData("", "relayProxyUrl: '' is not an absolute URL; give the relay proxy's address, such as http://127.0.0.1:1031.")]
    [InlineData("/v1", "relayProxyUrl: '/v1' is not an absolute URL; give the relay proxy's address, such as http://127.0.0.1:1031.")]
    [InlineData("relay:1031", "relayProxyUrl: 'relay:1031' is not an absolute URL; give the relay proxy's address, such as http://127.0.0.1:1031.")]
    [InlineData("ftp://relay:1031", "relayProxyUrl: 'ftp://relay:1031' has the scheme 'ftp'; only http and https are forwarded; give the relay proxy's address, such as http://127.0.0.1:1031.")]
    [InlineData("http://relay:1031/?x=1", "relayProxyUrl: 'http://relay:1031/?x=1' has a query or a fragment; only a path can prefix the forwarded paths; give the relay proxy's address, such as http://127.0.0.1:1031.")]
    [InlineData("http://user:secret@relay:1031", "relayProxyUrl: (not shown) holds user information; API keys pass through from the providers' requests instead; give the relay proxy's address, such as http://127.0.0.1:1031.")]
    public void BadRelayProxyUrl_IsRefused_NamingTheKeyAndTheValue(string value, string expected)
    {
        var exception = Assert.Throws<CollectorConfigurationException>(() => Read(value));

        Assert.Equal([expected], exception.Errors);
    }

    [Theory]
    [InlineData("http://127.0.0.1:1031", "http://127.0.0.1:1031/")]
    [InlineData("https://relay.example/base/", "https://relay.example/base/")]
    public void RelayProxyUrl_HttpOrHttps_IsRead(string value, string expected) => Assert.Equal(new Uri(expected), Read(value).RelayProxyUrl);

    [Fact]
    public async Task BadRelayProxyUrl_InYaml_StopsTheCollectorBeforeItListens()
    {
        using var directory = new TempDirectory();
        string yaml = directory.Combine("collector.yaml");
        await File.WriteAllTextAsync(yaml, "relayProxyUrl: ftp://relay\n", Cancellation);

        var exception = Assert.Throws<CollectorConfigurationException>(() => CollectorApp.Build(["--config", yaml]));

        Assert.Contains(exception.Errors, e => e.StartsWith("relayProxyUrl: 'ftp://relay' has the scheme 'ftp'", StringComparison.Ordinal));
    }

    private static CollectorSettings Read(string relayProxyUrl) =>
        CollectorSettings.Read(new ConfigurationBuilder().AddInMemoryCollection([new("relayProxyUrl", relayProxyUrl)]).Build());
}

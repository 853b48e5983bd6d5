using System.Net;
using System.Security.Cryptography;
using System.Text;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Webhook;

/// <summary>
/// The collector's <c>kind: webhook</c> exporter, configured with go-feature-flag's keys: a collector process posts what
/// it receives to a webhook, the same events its file exporter writes.
/// </summary>
public sealed class CollectorWebhookExporterTests : IDisposable
{
    private const string Body = """{"events":[""" +
        """{"kind":"feature","contextKind":"user","userKey":"u1","creationDate":1733230547,"key":"checkout","variation":"on","value":{"a":[1,2.5,"<x>"]},"default":false,"version":"v1","source":"PROVIDER_CACHE"},""" +
        """{"kind":"feature","contextKind":"anonymousUser","userKey":"ü2","creationDate":1733230548,"key":"checkout","variation":"off","value":false,"default":true,"version":"v1","source":"PROVIDER_CACHE"}]}""";

    private readonly TempDirectory _directory = new();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task AWebhookEntry_PostsTheEventsItsFileExporterWrites_SignedWithMetaAndHeaders()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            exporters:
              - kind: file
                outputDir: ./json
              - kind: webhook
                endpointUrl: {receiver.Url}
                secret: hook-secret
                flushInterval: 3600000
                meta:
                  hostname: collector-1
                  region: eu
                headers:
                  Authorization: ["Bearer t1"]
            """, Cancellation);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string address = await collector.WaitUntilListeningAsync();
        using (var client = new HttpClient())
        {
            HttpResponseMessage answer = await client.PostAsync(address + "/v1/data/collector", new StringContent(Body, Encoding.UTF8, "application/json"), Cancellation);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        collector.Signal("TERM"); // writes what it holds, then exits
        Assert.True(await collector.WaitForExitAsync() == 0, collector.Output);

        string lines = string.Concat(Directory.GetFiles(_directory.Combine("json")).Order(StringComparer.Ordinal).Select(File.ReadAllText));
        Assert.Equal(2, lines.Count(c => c == '\n'));
        WebhookReceiver.Received request = Assert.Single(receiver.Requests);
        string expected = """{"meta":{"hostname":"collector-1","region":"eu"},"events":[""" + lines.TrimEnd('\n').Replace('\n', ',') + "]}";
        Assert.Equal(expected, Encoding.UTF8.GetString(request.Body));
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("hook-secret"u8, request.Body)), request.Header("X-Hub-Signature-256"));
        Assert.Equal("Bearer t1", request.Header("Authorization"));
        Assert.False(string.IsNullOrEmpty(request.Header("Idempotency-Key")));
        Assert.Contains($"webhook, JSON, feature events, to {receiver.Url}", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("hook-secret", collector.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "exporters[0].endpointUrl: must be an absolute http or https URL")]
    [InlineData("not-a-url", "exporters[0].endpointUrl: must be an absolute http or https URL, such as 'https://example.com/webhook'; got 'not-a-url'.")]
    public async Task AWebhookEntryWithoutAUsableEndpoint_StopsStartUp_NamingTheKey(string? endpointUrl, string expected)
    {
        var settings = new Dictionary<string, string?> { ["exporters:0:kind"] = "webhook" };
        if (endpointUrl is not null)
        {
            settings["exporters:0:endpointUrl"] = endpointUrl;
        }

        CollectorConfigurationException error = await Assert.ThrowsAsync<CollectorConfigurationException>(() => TestCollector.StartAsync(settings, fileExporters: false));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}

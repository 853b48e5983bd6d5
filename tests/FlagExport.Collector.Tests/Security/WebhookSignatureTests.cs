using System.Net;
using System.Security.Cryptography;
using System.Text;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Security;

/// <summary>
/// A go-feature-flag relay proxy's webhook exporter posting to the collector: its <c>X-Hub-Signature-256</c> stands for
/// an API key when <c>webhookSecret</c> is set.
/// </summary>
public sealed class WebhookSignatureTests
{
    private const string Secret = "webhook-secret-value";

    // What the relay proxy's webhook exporter posts: meta.hostname, and the events as it exports them.
    private const string Body = """{"meta":{"hostname":"relay-proxy-1"},"events":[{"kind":"feature","contextKind":"user","userKey":"u1","creationDate":1733230547,"key":"flag","variation":"on","value":true,"default":false,"version":"v3","source":"SERVER","metadata":{"hostname":"ignored"}}]}""";

    private const string ExportedLine = """{"kind":"feature","contextKind":"user","userKey":"u1","creationDate":1733230547,"key":"flag","variation":"on","value":true,"default":false,"version":"v3","source":"SERVER","metadata":{"hostname":"relay-proxy-1"}}""" + "\n";

    private static Dictionary<string, string?> Settings(bool apiKey) => apiKey
        ? new() { ["webhookSecret"] = Secret, ["apiKeys:0"] = "provider-key" }
        : new() { ["webhookSecret"] = Secret };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AValidSignature_IsAcceptedWithoutAnApiKey_AndTheEventsAreExported(bool apiKeysConfigured)
    {
        await using TestCollector collector = await TestCollector.StartAsync(Settings(apiKeysConfigured));

        HttpResponseMessage response = await collector.PostAsync(Body, configure: r => r.Headers.Add("X-Hub-Signature-256", Sign(Body, Secret)));
        await collector.FlushAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ExportedLine, TestCollector.ReadAll(collector.FeatureDir));
        Assert.DoesNotContain(Secret, collector.Logs(), StringComparison.Ordinal);
    }

    public static TheoryData<string?, string> Refused => new()
    {
        { null, "missing" },
        { Sign(Body, "another-secret"), "wrong secret" },
        { Sign(Body + " ", Secret), "signature of another body" },
        { Sign(Body, Secret)[..^2], "too short" },
        { Sign(Body, Secret).Replace("sha256=", "sha1=", StringComparison.Ordinal), "another algorithm" },
        { "sha256=" + new string('z', 64), "not hex" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task AMissingOrWrongSignature_Is401_AndChangesNothing(string? signature, string why)
    {
        await using TestCollector collector = await TestCollector.StartAsync(Settings(apiKey: true));

        HttpResponseMessage response = await collector.PostAsync(Body, configure: r =>
        {
            if (signature is not null)
            {
                r.Headers.Add("X-Hub-Signature-256", signature);
            }
        });
        await collector.FlushAsync();

        Assert.True(HttpStatusCode.Unauthorized == response.StatusCode, why);
        Assert.Contains("webhookSecret", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal("", TestCollector.ReadAll(collector.FeatureDir));
        Assert.DoesNotContain(Secret, collector.Logs(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongSignature_OnAMalformedBody_Is401_NotTheParsersMessage()
    {
        await using TestCollector collector = await TestCollector.StartAsync(Settings(apiKey: false));

        HttpResponseMessage response = await collector.PostAsync("{\"events\":[", configure: r => r.Headers.Add("X-Hub-Signature-256", Sign(Body, Secret)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AnApiKey_StillAdmitsAProvider_WhenASecretIsSet()
    {
        await using TestCollector collector = await TestCollector.StartAsync(Settings(apiKey: true));

        HttpResponseMessage response = await collector.PostAsync(Body, configure: r => r.Headers.Add("Authorization", "Bearer provider-key"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void AnEmptySecret_IsRefusedAtStartUp_NamingTheKey(string secret)
    {
        var exception = Assert.Throws<CollectorConfigurationException>(() => TestCollector.StartAsync(new Dictionary<string, string?> { ["webhookSecret"] = secret }).GetAwaiter().GetResult());

        Assert.Contains("webhookSecret: must be a non-empty string", exception.Message, StringComparison.Ordinal);
    }

    private static string Sign(string body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));
}

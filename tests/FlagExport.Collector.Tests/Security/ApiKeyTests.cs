using System.Net;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Security;

/// <summary>API keys as the relay proxy has them: required only when configured, as a Bearer token or X-API-Key.</summary>
public sealed class ApiKeyTests
{
    private const string Body = """{"events":[{"kind":"feature","key":"k","value":true}]}""";

    private static readonly Dictionary<string, string?> TwoKeys = new()
    {
        ["apiKeys:0"] = "first-secret-key",
        ["authorizedKeys:evaluation:0"] = "second-secret-key",
        ["authorizedKeys:admin:0"] = "admin-secret-key",
    };

    [Fact]
    public async Task NoKeyConfigured_RequestsAreOpen()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.PostAsync(Body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string?, string?, HttpStatusCode> Presented => new()
    {
        { null, null, HttpStatusCode.Unauthorized },
        { "Bearer wrong-key", null, HttpStatusCode.Unauthorized },
        { "Bearer first-secret-key-but-longer", null, HttpStatusCode.Unauthorized },
        { "Basic first-secret-key", null, HttpStatusCode.Unauthorized },
        { "first-secret-key", null, HttpStatusCode.Unauthorized },
        { "Bearer ", null, HttpStatusCode.Unauthorized },
        { null, "wrong-key", HttpStatusCode.Unauthorized },
        { "Bearer first-secret-key", null, HttpStatusCode.OK },
        { "bearer second-secret-key", null, HttpStatusCode.OK },
        { null, "first-secret-key", HttpStatusCode.OK },
        { null, "second-secret-key", HttpStatusCode.OK },
        { "Bearer admin-secret-key", null, HttpStatusCode.OK },

        // As in the relay proxy, a present X-API-Key decides alone.
        { "Bearer first-secret-key", "wrong-key", HttpStatusCode.Unauthorized },
        { "Bearer wrong-key", "second-secret-key", HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(Presented))]
    public async Task KeysConfigured_RequestNeedsOne(string? authorization, string? apiKey, HttpStatusCode expected)
    {
        await using TestCollector collector = await TestCollector.StartAsync(TwoKeys);

        HttpResponseMessage response = await collector.PostAsync(Body, configure: request =>
        {
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            if (apiKey is not null)
            {
                request.Headers.Add("X-API-Key", apiKey);
            }
        });

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
            Assert.Contains("\"message\":\"A valid API key is required", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
            await collector.StopAsync();
            Assert.Equal("", TestCollector.ReadAll(collector.FeatureDir));
        }
    }

    [Fact]
    public async Task OnlyAdminKeys_DoNotMakeKeysRequired_AsInTheRelayProxy()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?> { ["authorizedKeys:admin:0"] = "admin-secret-key" });

        HttpResponseMessage response = await collector.PostAsync(Body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task KeysConfigured_HealthInfoAndMetricsStayOpen()
    {
        await using TestCollector collector = await TestCollector.StartAsync(TwoKeys);

        foreach (string path in new[] { "/health", "/info", "/metrics" })
        {
            HttpResponseMessage response = await collector.Client.GetAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Keys_AreNeverLogged()
    {
        await using TestCollector collector = await TestCollector.StartAsync(TwoKeys);
        _ = await collector.PostAsync(Body, configure: r => r.Headers.Add("X-API-Key", "first-secret-key"));
        _ = await collector.PostAsync(Body, configure: r => r.Headers.Add("Authorization", "Bearer a-wrong-secret"));
        await collector.StopAsync();

        string logs = collector.Logs();

        Assert.Contains("API keys required on /v1/data/collector (2 configured)", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", logs, StringComparison.OrdinalIgnoreCase);
    }
}

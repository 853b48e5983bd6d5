using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.RelayProxy;

/// <summary>
/// go-feature-flag's real OpenFeature JS provider (npm, pinned) with its single endpoint pointed at the collector, whose
/// <c>relayProxyUrl</c> is a fake relay proxy: evaluations return the relay proxy's values, its API key reaches the relay
/// proxy (and authorizes the collector), and the cached evaluations the provider collects are exported exactly.
/// </summary>
public sealed class NpmProviderTests
{
    private const string ApiKey = "npm-provider-key";

    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    [Fact]
    public async Task JsProvider_EvaluatesThroughTheCollector_AndItsCachedEvaluationsAreExported()
    {
        string nodeModules = await NpmProvider.NodeModulesAsync();
        await using FakeRelayProxy upstream = await FakeRelayProxy.StartAsync();
        // The relay proxy's eval answer: cacheable ones are cached by the provider, and only cached evaluations are collected.
        upstream.EvalAnswers["bool-flag"] = Answer("true", "enabled", cacheable: true);
        upstream.EvalAnswers["string-flag"] = Answer("\"blue\"", "blue-variation", cacheable: true);
        upstream.EvalAnswers["number-flag"] = Answer("42.5", "answer", cacheable: true);
        upstream.EvalAnswers["object-flag"] = Answer("""{"theme":"dark","sizes":[1,2]}""", "dark-theme", cacheable: true);
        upstream.EvalAnswers["uncached-flag"] = Answer("true", "always-asked", cacheable: false);
        await using ListeningCollector collector = await ListeningCollector.StartAsync(new Dictionary<string, string?>
        {
            ["relayProxyUrl"] = upstream.Url,
            ["apiKeys:0"] = ApiKey,
        });

        // The provider rounds its clock to the nearest second: bounds are the seconds before the start and after the end.
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var node = new ProcessStartInfo("node") { WorkingDirectory = Path.GetDirectoryName(NpmProvider.ScriptPath)! };
        node.ArgumentList.Add(NpmProvider.ScriptPath);
        node.Environment["NODE_PATH"] = nodeModules;
        node.Environment["ENDPOINT"] = collector.Url;
        node.Environment["API_KEY"] = ApiKey;
        (int exitCode, string output, string error) = await NodeProcess.RunAsync(node, TimeSpan.FromMinutes(1));
        long after = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 999) / 1000;

        Assert.True(exitCode == 0, $"node exited with {exitCode}: {output} {error}\nCollector: {collector.Logs()}");
        Assert.Equal(
            """
            [{"key":"bool-flag","value":true,"variant":"enabled","reason":"TARGETING_MATCH","errorCode":null},{"key":"bool-flag","value":true,"variant":"enabled","reason":"CACHED","errorCode":null},{"key":"bool-flag","value":true,"variant":"enabled","reason":"CACHED","errorCode":null},{"key":"string-flag","value":"blue","variant":"blue-variation","reason":"TARGETING_MATCH","errorCode":null},{"key":"string-flag","value":"blue","variant":"blue-variation","reason":"CACHED","errorCode":null},{"key":"string-flag","value":"blue","variant":"blue-variation","reason":"CACHED","errorCode":null},{"key":"number-flag","value":42.5,"variant":"answer","reason":"TARGETING_MATCH","errorCode":null},{"key":"number-flag","value":42.5,"variant":"answer","reason":"CACHED","errorCode":null},{"key":"object-flag","value":{"theme":"dark","sizes":[1,2]},"variant":"dark-theme","reason":"TARGETING_MATCH","errorCode":null},{"key":"object-flag","value":{"theme":"dark","sizes":[1,2]},"variant":"dark-theme","reason":"CACHED","errorCode":null},{"key":"uncached-flag","value":true,"variant":"always-asked","reason":"TARGETING_MATCH","errorCode":null},{"key":"uncached-flag","value":true,"variant":"always-asked","reason":"TARGETING_MATCH","errorCode":null},{"key":"bool-flag","value":true,"variant":"enabled","reason":"TARGETING_MATCH","errorCode":null},{"key":"bool-flag","value":true,"variant":"enabled","reason":"CACHED","errorCode":null}]

            """,
            output);

        // Every evaluation that was not cached reached the relay proxy, with the provider's API key; no event did.
        ReceivedRequest[] evaluations = [.. upstream.Requests.Where(r => r.Path.StartsWith("/v1/feature/", StringComparison.Ordinal))];
        Assert.Equal(
            ["/v1/feature/bool-flag/eval", "/v1/feature/string-flag/eval", "/v1/feature/number-flag/eval", "/v1/feature/object-flag/eval",
             "/v1/feature/uncached-flag/eval", "/v1/feature/uncached-flag/eval", "/v1/feature/bool-flag/eval"],
            evaluations.Select(r => r.Path));
        Assert.All(evaluations, r => Assert.Equal($"Bearer {ApiKey}", r.Header("Authorization")));
        Assert.Equal("""{"user":{"key":"user-1","anonymous":false,"custom":{"email":"one@example.com"}},"defaultValue":false}""", evaluations[0].Body);
        Assert.Empty(upstream.RequestsTo("/v1/data/collector"));

        // The provider's close sent the collected evaluations before node exited: they are in the collector's buffer.
        await collector.FlushAsync();
        string[] lines = TestCollector.ReadAll(collector.FeatureDir).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] expected =
        [
            Line("user", "user-1", "bool-flag", "enabled", "true"),
            Line("user", "user-1", "bool-flag", "enabled", "true"),
            Line("user", "user-1", "string-flag", "blue-variation", "\"blue\""),
            Line("user", "user-1", "string-flag", "blue-variation", "\"blue\""),
            Line("user", "user-1", "number-flag", "answer", "42.5"),
            Line("user", "user-1", "object-flag", "dark-theme", """{"sizes":[1,2],"theme":"dark"}"""),
            Line("anonymousUser", "anon-1", "bool-flag", "enabled", "true"),
        ];
        Assert.Equal(expected.Length, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            // The provider stamps each event with its own clock, in seconds: the one field not known in advance.
            long creationDate = JsonNode.Parse(lines[i])!["creationDate"]!.GetValue<long>();
            Assert.InRange(creationDate, before, after);
            Assert.Equal(expected[i].Replace("{creationDate}", creationDate.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), lines[i]);
        }
    }

    private static string Answer(string value, string variation, bool cacheable) =>
        $$$"""{"value":{{{value}}},"variationType":"{{{variation}}}","reason":"TARGETING_MATCH","failed":false,"trackEvents":true,"version":"","cacheable":{{{(cacheable ? "true" : "false")}}},"metadata":{"team":"flags"}}""";

    private static string Line(string contextKind, string userKey, string key, string variation, string value) =>
        $$$"""{"kind":"feature","contextKind":"{{{contextKind}}}","userKey":"{{{userKey}}}","creationDate":{creationDate},"key":"{{{key}}}","variation":"{{{variation}}}","value":{{{value}}},"default":false,"version":"","source":"PROVIDER_CACHE","metadata":{"provider":"open-feature-js-sdk"}}""";
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;
using static FlagExport.Collector.Tests.Support.OtlpRequests;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>OTLP/JSON over POST /v1/logs and /v1/traces, through the real routing, endpoint and exporters.</summary>
public sealed class OtlpJsonHttpTests
{
    private const long Time = 1_733_230_547_000_000_000;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly OtlpLogRecord Evaluation = new("feature_flag.evaluation", Time,
        Attribute("feature_flag.key", "new-checkout"), Attribute("feature_flag.result.variant", "on"), Attribute("feature_flag.result.value", true),
        Attribute("feature_flag.context.id", "user-1"), Attribute("feature_flag.provider.name", "flagd"));

    private static async Task<HttpResponseMessage> PostJsonAsync(TestCollector collector, string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await collector.Client.PostAsync(path, content, Token);
    }

    [Fact]
    public async Task JsonLogsAndTraces_WriteTheSameLinesAsProtobuf_AndAreAnsweredInJson()
    {
        await using TestCollector protobuf = await TestCollector.StartAsync();
        await using TestCollector json = await TestCollector.StartAsync();
        OtlpLogRecord other = new("http.request", Time, Attribute("url.path", "/"));
        OtlpSpanEvent spanEvent = new("feature_flag.evaluation", Time, Evaluation.Attributes);

        foreach ((string path, byte[] protobufBody, byte[] jsonBody) in new[]
        {
            ("/v1/logs", Logs("shop", Evaluation, other), OtlpJsonRequests.Logs("shop", Evaluation, other)),
            ("/v1/traces", Traces("shop", [spanEvent]), OtlpJsonRequests.Traces("shop", [spanEvent])),
        })
        {
            using var protobufContent = new ByteArrayContent(protobufBody);
            protobufContent.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            using HttpResponseMessage protobufResponse = await protobuf.Client.PostAsync(path, protobufContent, Token);
            using HttpResponseMessage jsonResponse = await PostJsonAsync(json, path, jsonBody);

            Assert.Equal(HttpStatusCode.OK, protobufResponse.StatusCode);
            Assert.Equal(HttpStatusCode.OK, jsonResponse.StatusCode);
            Assert.Equal("application/json", jsonResponse.Content.Headers.ContentType?.MediaType);
            Assert.Equal("{}", await jsonResponse.Content.ReadAsStringAsync(Token));
        }

        await protobuf.StopAsync();
        await json.StopAsync();
        string lines = TestCollector.ReadAll(json.FeatureDir);
        Assert.Equal(2, lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(TestCollector.ReadAll(protobuf.FeatureDir), lines);
    }

    [Fact]
    public async Task AKeylessEvaluation_IsReportedInAJsonPartialSuccess_NamingItsPath()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        using HttpResponseMessage response = await PostJsonAsync(collector, "/v1/logs", OtlpJsonRequests.Logs("shop",
            Evaluation, new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("feature_flag.result.variant", "on"))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        JsonElement partial = answer.RootElement.GetProperty("partialSuccess");
        Assert.Equal("1", partial.GetProperty("rejectedLogRecords").GetString());
        Assert.Contains("resourceLogs[0].scopeLogs[0].logRecords[1] is a feature_flag.evaluation without feature_flag.key",
            partial.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        await collector.StopAsync();
        Assert.Single(TestCollector.ReadAll(collector.FeatureDir).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task AMalformedJsonBody_Is400_WithAJsonStatusNamingTheField_AndNothingIsKept()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        string body = Encoding.UTF8.GetString(OtlpJsonRequests.Logs("shop", Evaluation))
            .Replace("\"feature_flag.key\",\"value\":{\"stringValue\":\"new-checkout\"}", "\"feature_flag.key\",\"value\":\"new-checkout\"", StringComparison.Ordinal);

        using HttpResponseMessage response = await PostJsonAsync(collector, "/v1/logs", Encoding.UTF8.GetBytes(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using JsonDocument status = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        Assert.Equal(3, status.RootElement.GetProperty("code").GetInt32()); // INVALID_ARGUMENT
        Assert.Contains("resourceLogs[0].scopeLogs[0].logRecords[0].attributes[0].value: expected an object, got a string",
            status.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        await collector.StopAsync();
        Assert.Equal("", TestCollector.ReadAll(collector.FeatureDir));
    }
}

using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using FlagExport.Collector.Tests.Support;
using static FlagExport.Collector.Tests.Support.OtlpRequests;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>POST /v1/logs and /v1/traces through the real routing, endpoint and exporters, on a test server.</summary>
public sealed class OtlpHttpEndpointTests
{
    private const long Time = 1_733_230_547_000_000_000;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly OtlpLogRecord Evaluation = new("feature_flag.evaluation", Time,
        Attribute("feature_flag.key", "new-checkout"), Attribute("feature_flag.result.variant", "on"), Attribute("feature_flag.result.value", true),
        Attribute("feature_flag.context.id", "user-1"), Attribute("feature_flag.provider.name", "flagd"));

    private const string EvaluationLine =
        """{"kind":"feature","contextKind":"user","userKey":"user-1","creationDate":1733230547,"key":"new-checkout","variation":"on","value":true,"default":false,"version":"","source":"SERVER","metadata":{"feature_flag.provider.name":"flagd","service.name":"shop"}}""" + "\n";

    private static Task<HttpResponseMessage> PostAsync(TestCollector collector, string path, byte[] body, string contentType = "application/x-protobuf", Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        configure?.Invoke(request);
        return collector.Client.SendAsync(request, Token);
    }

    [Fact]
    public async Task Logs_FullSuccess_IsAnEmptyExportResponse_AndTheEventIsWritten()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        using HttpResponseMessage response = await PostAsync(collector, "/v1/logs",
            Logs("shop", Evaluation, new OtlpLogRecord("http.request", Time, Attribute("url.path", "/"))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Token));
        await collector.StopAsync();
        Assert.Equal(EvaluationLine, TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task Traces_SpanEvents_AreWritten_AndAGzipBodyIsRead()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        byte[] body = Traces("shop", [new OtlpSpanEvent("feature_flag.evaluation", Time, Evaluation.Attributes)]);
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body);
        }

        using HttpResponseMessage response = await PostAsync(collector, "/v1/traces", compressed.ToArray(), configure: r => r.Content!.Headers.ContentEncoding.Add("gzip"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await collector.StopAsync();
        Assert.Equal(EvaluationLine, TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task EvaluationWithoutKey_IsReportedInPartialSuccess_AndTheOthersAreKept()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        using HttpResponseMessage response = await PostAsync(collector, "/v1/logs",
            Logs("shop", Evaluation, new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("feature_flag.result.variant", "on"))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        (long rejected, string message) = Assert.NotNull(OtlpAnswers.PartialSuccess(await response.Content.ReadAsByteArrayAsync(Token)));
        Assert.Equal(1, rejected);
        Assert.Contains("log_records[1] is a feature_flag.evaluation without feature_flag.key", message, StringComparison.Ordinal);
        await collector.StopAsync();
        Assert.Equal(EvaluationLine, TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task MalformedBody_Is400_WithAStatusMessage_AndNothingIsKept()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        byte[] valid = Logs("shop", Evaluation);

        using HttpResponseMessage response = await PostAsync(collector, "/v1/logs", valid[..^3]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        (int code, string message, long? retryDelay) = OtlpAnswers.Status(await response.Content.ReadAsByteArrayAsync(Token));
        Assert.Equal(3, code); // INVALID_ARGUMENT
        Assert.StartsWith("The body is not a valid OTLP protobuf message", message, StringComparison.Ordinal);
        Assert.Null(retryDelay); // not retryable
        await collector.StopAsync();
        Assert.Equal("", TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task ApiKeys_ApplyAsOnTheCollectEndpoint()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?> { ["apiKeys:0"] = "secret" });
        byte[] body = Logs("shop", Evaluation);

        using HttpResponseMessage without = await PostAsync(collector, "/v1/logs", body);
        using HttpResponseMessage bearer = await PostAsync(collector, "/v1/logs", body, configure: r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "secret"));
        using HttpResponseMessage header = await PostAsync(collector, "/v1/logs", body, configure: r => r.Headers.Add("X-API-Key", "secret"));

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.OK, HttpStatusCode.OK), (without.StatusCode, bearer.StatusCode, header.StatusCode));
        await collector.StopAsync();
        Assert.Equal(EvaluationLine + EvaluationLine, TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task OtherContentTypes_Are415_NamingBothAccepted()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        using HttpResponseMessage response = await PostAsync(collector, "/v1/logs", Logs("shop", Evaluation), "text/plain");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("application/x-protobuf or application/json", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyAboveMaxRequestBodySize_Is413()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?> { ["maxRequestBodySize"] = "100" });

        using HttpResponseMessage response = await PostAsync(collector, "/v1/logs", Logs("shop", Evaluation, Evaluation, Evaluation));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("maxRequestBodySize", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }
}

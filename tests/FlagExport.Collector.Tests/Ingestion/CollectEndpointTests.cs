using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>POST /v1/data/collector through the real pipeline (routing, endpoint, FlagExport exporters) on a test server.</summary>
public sealed class CollectEndpointTests
{
    private const string User = "94a25909-20d8-40cc-8500-fee99b569345";

    // What an OpenFeature provider sends (camelCase, creationDate in milliseconds, no source, meta of several types),
    // modelled on go-feature-flag's relay proxy test data (valid_request_mix_tracking_evaluation.json).
    private const string ProviderPayload = $$$"""
        {
          "meta": {"environment": "production", "sdkVersion": "v1.0.0", "source": "my-source", "timestamp": 1680246000, "debug": true, "ratio": 0.5},
          "events": [
            {"contextKind": "user", "creationDate": 1733230547728, "default": false, "key": "my-feature-flag", "kind": "feature",
             "userKey": "{{{User}}}", "value": "string", "variation": "admin-variation", "version": "v1.0.0"},
            {"kind": "tracking", "creationDate": 1680246020, "contextKind": "user", "userKey": "{{{User}}}", "key": "my-feature-flag",
             "evaluationContext": {"targetingKey": "{{{User}}}", "name": "john doe", "admin": true},
             "trackingEventDetails": {"value": "string", "version": "v1.0.0"}}
          ]
        }
        """;

    // The lines go-feature-flag writes for it: its test expectations, with the extra meta values in Go's key order.
    private const string ExpectedFeatureLine =
        $$$"""{"kind":"feature","contextKind":"user","userKey":"{{{User}}}","creationDate":1733230547,"key":"my-feature-flag","variation":"admin-variation","value":"string","default":false,"version":"v1.0.0","source":"PROVIDER_CACHE","metadata":{"debug":true,"environment":"production","ratio":0.5,"sdkVersion":"v1.0.0","source":"my-source","timestamp":1680246000}}""" + "\n";

    private const string ExpectedTrackingLine =
        $$$"""{"kind":"tracking","contextKind":"user","userKey":"{{{User}}}","creationDate":1680246020,"key":"my-feature-flag","evaluationContext":{"admin":true,"name":"john doe","targetingKey":"{{{User}}}"},"trackingEventDetails":{"value":"string","version":"v1.0.0"}}""" + "\n";

    private const string GoodEvent = """{"kind":"feature","userKey":"good","creationDate":1700000000,"key":"flag","variation":"on","value":true}""";

    private const string GoodRequest = """{"events":[""" + GoodEvent + "]}";

    private const string GoodLine = """{"kind":"feature","userKey":"good","creationDate":1700000000,"key":"flag","variation":"on","value":true,"default":false,"version":"","source":"PROVIDER_CACHE"}""" + "\n";

    [Fact]
    public async Task ProviderPayload_IsAnsweredAndWrittenByteForByteAsGoFeatureFlag()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.PostAsync(ProviderPayload);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"ingestedContentCount":2}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        await collector.StopAsync();
        Assert.Equal(ExpectedFeatureLine, TestCollector.ReadAll(collector.FeatureDir));
        Assert.Equal(ExpectedTrackingLine, TestCollector.ReadAll(collector.TrackingDir));
    }

    [Theory]
    [InlineData(null, "\"metadata\":{\"hostname\":\"sender\"}")]
    [InlineData("own", "\"metadata\":{\"zone\":1}")]
    [InlineData("OWN", "\"metadata\":{\"zone\":1}")]
    [InlineData("other", "\"metadata\":{\"hostname\":\"sender\"}")]
    public async Task Meta_ReplacesEachFeatureEventsMetadata_UnlessTheSenderAsksToKeepItsOwn(string? header, string expected)
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.PostAsync(
            """{"meta":{"hostname":"sender"},"events":[{"kind":"feature","userKey":"u","creationDate":1700000000,"key":"k","value":true,"metadata":{"zone":1}}]}""",
            configure: request =>
            {
                if (header is not null)
                {
                    request.Headers.Add("FlagExport-Event-Metadata", header);
                }
            });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await collector.StopAsync();
        Assert.Contains(expected, TestCollector.ReadAll(collector.FeatureDir), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Charset_InContentType_IsAccepted()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.PostAsync(GoodRequest, "application/json; charset=utf-8");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Source_WhenGiven_IsKept_AndEventMetadata_IsKeptWithoutMeta()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.PostAsync(
            """{"events":[{"kind":"feature","userKey":"u","creationDate":1680246000,"key":"k","variation":"v","value":1,"source":"EDGE","metadata":{"a":"b"}}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await collector.StopAsync();
        Assert.Equal(
            """{"kind":"feature","userKey":"u","creationDate":1680246000,"key":"k","variation":"v","value":1,"default":false,"version":"","source":"EDGE","metadata":{"a":"b"}}""" + "\n",
            TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task Values_OfEveryJsonType_AreWrittenAsGoWritesThem()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.PostAsync(
            """{"events":[{"kind":"feature","key":"k","value":{"z":[1,2.50,"<x>",null,true,1e21,9007199254740993],"a":{}}}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await collector.StopAsync();

        // Go decodes numbers as float64: 2.50 is 2.5, 1e21 is 1e+21, 2^53+1 rounds to 2^53; '<' is escaped; keys sorted.
        Assert.Equal(
            """{"kind":"feature","userKey":"","creationDate":0,"key":"k","variation":"","value":{"a":{},"z":[1,2.5,"\u003cx\u003e",null,true,1e+21,9007199254740992]},"default":false,"version":"","source":"PROVIDER_CACHE"}""" + "\n",
            TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task EventsThatCannotBeConverted_AreCountedLoggedAndSkipped()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.PostAsync(
            """{"events":[{"kind":"feature","userKey":42},""" + GoodEvent + """,{"kind":"tracking","creationDate":"yesterday"},{"default":"yes"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"ingestedContentCount":1,"rejectedContentCount":3}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        await collector.StopAsync();
        Assert.Equal(GoodLine, TestCollector.ReadAll(collector.FeatureDir));
        Assert.Equal("", TestCollector.ReadAll(collector.TrackingDir));
        string log = collector.Logs();
        Assert.Contains("Rejected 3 of 4 events of a request; the first: events[0] feature event: userKey must be a string; got a number", log, StringComparison.Ordinal);
    }

    public static TheoryData<string, string?, HttpStatusCode, string> BadInputs => new()
    {
        { """{"events": [""", "application/json", HttpStatusCode.BadRequest, "The request body is not valid JSON:" },
        { """{"meta": {"a": 1}}""", "application/json", HttpStatusCode.BadRequest, "The request body has no \"events\" array" },
        { """{"events": null}""", "application/json", HttpStatusCode.BadRequest, "\"events\" must be an array; got null." },
        { """{"events": {"kind": "feature"}}""", "application/json", HttpStatusCode.BadRequest, "\"events\" must be an array; got an object." },
        { """{"events": [{"kind": "feature"}, 1]}""", "application/json", HttpStatusCode.BadRequest, "events[1] must be a JSON object; got a number." },
        { """{"events": [null]}""", "application/json", HttpStatusCode.BadRequest, "events[0] must be a JSON object; got null." },
        { """{"meta": "prod", "events": []}""", "application/json", HttpStatusCode.BadRequest, "\"meta\" must be a JSON object; got a string." },
        { """{"meta": {"n": 1e999}, "events": []}""", "application/json", HttpStatusCode.BadRequest, "\"meta\" property 'n': number 1e999 is out of range." },
        { """[{"kind": "feature"}]""", "application/json", HttpStatusCode.BadRequest, "must be a JSON object with an \"events\" array; got an array." },
        { "", "application/json", HttpStatusCode.BadRequest, "The request body is empty" },
        { new string('[', 100) + new string(']', 100), "application/json", HttpStatusCode.BadRequest, "The request body nests JSON deeper than 64 levels" },
        { GoodRequest, "text/plain", HttpStatusCode.UnsupportedMediaType, "Content-Type: application/json; got 'text/plain'." },
        { GoodRequest, "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType, "Content-Type: application/json" },
        { GoodRequest, null, HttpStatusCode.UnsupportedMediaType, "got none." },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInput_GetsItsStatusAndMessage_AndChangesNothing(string body, string? contentType, HttpStatusCode status, string message)
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync(GoodRequest)).StatusCode);

        HttpResponseMessage response = await collector.PostAsync(body, contentType);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains(message, error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        await collector.StopAsync();
        Assert.Equal(GoodLine, TestCollector.ReadAll(collector.FeatureDir));
        Assert.Equal("", TestCollector.ReadAll(collector.TrackingDir));
    }

    [Fact]
    public async Task InvalidText_BecomesReplacementCharacters_AsGoDecodesIt()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        byte[] body = [.. "{\"events\":[{\"key\":\"a"u8, 0xC3, 0x28, .. "\",\"userKey\":\"\\ud800b\"}]}"u8];

        HttpResponseMessage response = await collector.Client.PostAsync(
            "/v1/data/collector", new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            TestContext.Current.CancellationToken);

        Assert.Equal("""{"ingestedContentCount":1}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        await collector.StopAsync();
        Assert.Equal(
            "{\"kind\":\"\",\"userKey\":\"\uFFFDb\",\"creationDate\":0,\"key\":\"a\uFFFD(\",\"variation\":\"\",\"value\":null,\"default\":false,\"version\":\"\",\"source\":\"PROVIDER_CACHE\"}\n",
            TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task DefaultLimit_Is64MiB_AtItAccepted_OneByteMoreRefused()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        const int Limit = 64 * 1024 * 1024;

        HttpResponseMessage atLimit = await collector.PostAsync(GoodRequest + new string(' ', Limit - GoodRequest.Length));
        HttpResponseMessage above = await collector.PostAsync(GoodRequest + new string(' ', Limit + 1 - GoodRequest.Length));

        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, above.StatusCode);
        Assert.Contains("larger than the limit of 67108864 bytes (maxRequestBodySize)", await above.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABacklogOf120000Events_In20MiB_IsAcceptedWithTheDefaults_AndExportedExactly()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        var body = new StringBuilder("""{"events":[""");
        var expected = new StringBuilder();
        for (int i = 0; i < 120_000; i++)
        {
            // Written as the exporter writes it, so that each exported line is the event as sent.
            string line = $$"""{"kind":"feature","contextKind":"user","userKey":"user-{{i}}","creationDate":{{1733230547 + (i % 3600)}},"key":"flag-{{i % 50}}","variation":"variation-{{i % 7}}","value":{{(i % 2 == 0 ? "true" : $"\"v{i % 5}\"")}},"default":false,"version":"v1","source":"SERVER"}""";
            _ = body.Append(i == 0 ? "" : ",").Append(line);
            _ = expected.Append(line).Append('\n');
        }

        string json = body.Append("]}").ToString();
        Assert.InRange(json.Length, 20L * 1024 * 1024, 25L * 1024 * 1024);

        HttpResponseMessage response = await collector.PostAsync(json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"ingestedContentCount":120000}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        await collector.StopAsync();

        Assert.Equal(expected.ToString(), TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task BodyAboveTheLimit_Is413_WithOrWithoutContentLength_AndChangesNothing()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?> { ["maxRequestBodySize"] = "1024" });
        string large = """{"events":[{"key":"k","value":" """ + new string('x', 2000) + "\"}]}";

        HttpResponseMessage withLength = await collector.PostAsync(large);
        HttpResponseMessage chunked = await collector.Client.PostAsync(
            "/v1/data/collector",
            new StreamContent(new NoLengthStream(Encoding.UTF8.GetBytes(large))) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            TestContext.Current.CancellationToken);
        HttpResponseMessage atLimit = await collector.PostAsync(GoodRequest + new string(' ', 1024 - GoodRequest.Length));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, withLength.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.Contains("larger than the limit of 1024 bytes (maxRequestBodySize)", await chunked.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        await collector.StopAsync();
        Assert.Equal(GoodLine, TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task CompressedBodies_AreDecompressed_AndTheLimitCountsDecompressedBytes()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?> { ["maxRequestBodySize"] = "4096" });

        HttpResponseMessage gzip = await collector.Client.PostAsync("/v1/data/collector", Gzip(GoodRequest), TestContext.Current.CancellationToken);
        HttpResponseMessage bomb = await collector.Client.PostAsync(
            "/v1/data/collector", Gzip("""{"events":[{"key":" """ + new string(' ', 100_000) + "\"}]}"), TestContext.Current.CancellationToken);
        var unknown = new ByteArrayContent(Encoding.UTF8.GetBytes(GoodRequest)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        unknown.Headers.ContentEncoding.Add("compress");
        HttpResponseMessage unsupported = await collector.Client.PostAsync("/v1/data/collector", unknown, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, gzip.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bomb.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
        using JsonDocument error = JsonDocument.Parse(await unsupported.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith("Content-Encoding 'compress' is not supported", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        await collector.StopAsync();
        Assert.Equal(GoodLine, TestCollector.ReadAll(collector.FeatureDir));

        static ByteArrayContent Gzip(string json)
        {
            using var compressed = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Optimal))
            {
                gzip.Write(Encoding.UTF8.GetBytes(json));
            }

            var content = new ByteArrayContent(compressed.ToArray()) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
            content.Headers.ContentEncoding.Add("gzip");
            return content;
        }
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task CorruptCompressedBody_Is400_AndChangesNothing(string encoding)
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        HttpResponseMessage good = await collector.PostAsync(GoodRequest);
        var corrupt = new ByteArrayContent("this is not compressed at all, just bytes"u8.ToArray()) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        corrupt.Headers.ContentEncoding.Add(encoding);

        HttpResponseMessage response = await collector.Client.PostAsync("/v1/data/collector", corrupt, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using JsonDocument error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("The request body does not decompress as its Content-Encoding says.", error.RootElement.GetProperty("message").GetString());
        await collector.StopAsync();
        Assert.Equal(GoodLine, TestCollector.ReadAll(collector.FeatureDir));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TrackingEvents_WithoutATrackingExporter_AreReportedAsDropped_InEitherMode(bool durable)
    {
        using var buffer = new TempDirectory();
        var settings = new Dictionary<string, string?> { ["exporters:1:eventType"] = "feature" };
        if (durable)
        {
            settings["bufferDirectory"] = buffer.Path;
        }

        await using TestCollector collector = await TestCollector.StartAsync(settings);

        HttpResponseMessage response = await collector.PostAsync(ProviderPayload);

        Assert.Equal("""{"ingestedContentCount":1,"droppedContentCount":1}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains("no exporter has eventType: tracking", collector.Logs(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentRequests_AreAllWritten()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        const int Requests = 200, EventsPerRequest = 10;
        string body = "{\"events\":[" + string.Join(",", Enumerable.Repeat(GoodEvent, EventsPerRequest)) + "]}";

        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(_ => Task.Run(() => collector.PostAsync(body))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await collector.StopAsync();
        Assert.Equal(Requests * EventsPerRequest, TestCollector.ReadAll(collector.FeatureDir).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    /// <summary>A stream whose length is unknown, so that the client sends the body chunked, without Content-Length.</summary>
    private sealed class NoLengthStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}

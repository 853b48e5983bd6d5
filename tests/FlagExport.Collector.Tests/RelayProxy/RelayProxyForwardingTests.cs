using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.RelayProxy;

/// <summary>
/// With <c>relayProxyUrl</c>, the relay proxy's routes reach it unchanged through the collector (headers, status, body,
/// ETags, server-sent events, websockets, query strings), and <c>/v1/data/collector</c> stays the collector's own.
/// </summary>
public sealed class RelayProxyForwardingTests : IAsyncLifetime
{
    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    private FakeRelayProxy _upstream = null!;
    private ListeningCollector _collector = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await FakeRelayProxy.StartAsync();
        _collector = await ListeningCollector.StartAsync(new Dictionary<string, string?> { ["relayProxyUrl"] = _upstream.Url });
        _client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(_collector.Url) };
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _collector.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Eval_BodyHeadersAndStatus_PassThroughBothWays()
    {
        _upstream.EvalAnswers["my-flag"] =
            """{"value":true,"variationType":"on","reason":"TARGETING_MATCH","failed":false,"trackEvents":true,"version":"","cacheable":true}""";
        const string body = """{"user":{"key":"user-1","anonymous":false,"custom":{}},"defaultValue":false}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/feature/my-flag/eval")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "provider-key");
        request.Headers.Add("X-API-Key", "other-key");
        request.Headers.Add("X-Custom", "kept");

        using HttpResponseMessage response = await _client.SendAsync(request, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_upstream.EvalAnswers["my-flag"], await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal("fake-relay-proxy", Assert.Single(response.Headers.GetValues("X-Upstream")));
        ReceivedRequest received = Assert.Single(_upstream.RequestsTo("/v1/feature/my-flag/eval"));
        Assert.Equal("POST", received.Method);
        Assert.Equal(body, received.Body);
        Assert.Equal("Bearer provider-key", received.Header("Authorization"));
        Assert.Equal("other-key", received.Header("X-API-Key"));
        Assert.Equal("kept", received.Header("X-Custom"));
        Assert.StartsWith("application/json", received.Header("Content-Type"), StringComparison.Ordinal);
        Assert.DoesNotContain("Yarp", _collector.Logs(), StringComparison.Ordinal); // no line per forwarded request
    }

    [Fact]
    public async Task UpstreamStatus_IsKept_NotTurnedIntoTheCollectorsOwn404()
    {
        using HttpResponseMessage response = await _client.PostAsync("/ofrep/v1/evaluate/flags/absent", new StringContent("{}"), Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("""{"key":"absent","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag not found"}""", await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task FlagConfiguration_IfNoneMatchWithTheETag_Is304FromUpstream()
    {
        using HttpResponseMessage first = await _client.PostAsync("/v1/flag/configuration", new StringContent("{}"), Cancellation);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(FakeRelayProxy.ConfigurationETag, first.Headers.ETag?.ToString());

        using var again = new HttpRequestMessage(HttpMethod.Post, "/v1/flag/configuration") { Content = new StringContent("{}") };
        again.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Parse(FakeRelayProxy.ConfigurationETag));
        using HttpResponseMessage second = await _client.SendAsync(again, Cancellation);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal(FakeRelayProxy.ConfigurationETag, second.Headers.ETag?.ToString());
        Assert.Equal(FakeRelayProxy.ConfigurationETag, _upstream.RequestsTo("/v1/flag/configuration")[1].Header("If-None-Match"));
    }

    [Fact]
    public async Task ServerSentEvents_TheFirstEventArrives_BeforeTheUpstreamEndsTheStream()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/stream/v1/sse/flag/change?apiKey=k");
        using HttpResponseMessage response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancellation);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancellation));

        // The upstream holds the second event until released: the first can only be read here if nothing buffers it.
        Assert.Equal("event: flag-change", await reader.ReadLineAsync(Cancellation));
        Assert.Equal("data: first", await reader.ReadLineAsync(Cancellation));
        Assert.False(_upstream.SecondEvent.Task.IsCompleted);
        _upstream.SecondEvent.SetResult();

        Assert.Equal("\nevent: flag-change\ndata: second\n\n", await reader.ReadToEndAsync(Cancellation));
        Assert.Equal("?apiKey=k", Assert.Single(_upstream.RequestsTo("/stream/v1/sse/flag/change")).Query);
    }

    [Fact]
    public async Task WebSocket_FlagChange_IsUpgradedAndEchoedThroughTheCollector()
    {
        using var socket = new ClientWebSocket();
        socket.Options.Proxy = null;
        await socket.ConnectAsync(new Uri(_collector.Url.Replace("http://", "ws://", StringComparison.Ordinal) + "/ws/v1/flag/change?apiKey=ws-key"), Cancellation);

        await socket.SendAsync(Encoding.UTF8.GetBytes("hello"), WebSocketMessageType.Text, endOfMessage: true, Cancellation);
        var buffer = new byte[1024];
        WebSocketReceiveResult received = await socket.ReceiveAsync(buffer, Cancellation);
        Assert.Equal("echo: hello (apiKey=ws-key)", Encoding.UTF8.GetString(buffer, 0, received.Count));

        await socket.SendAsync(Encoding.UTF8.GetBytes("again"), WebSocketMessageType.Text, endOfMessage: true, Cancellation);
        received = await socket.ReceiveAsync(buffer, Cancellation);
        Assert.Equal("echo: again (apiKey=ws-key)", Encoding.UTF8.GetString(buffer, 0, received.Count));

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", Cancellation);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task CompressedRequestBody_IsForwardedAsSent()
    {
        byte[] plain = Encoding.UTF8.GetBytes("""{"user":{"key":"u"},"defaultValue":false}""");
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        using var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        using HttpResponseMessage response = await _client.PostAsync("/v1/feature/gz/eval", content, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ReceivedRequest received = Assert.Single(_upstream.RequestsTo("/v1/feature/gz/eval"));
        Assert.Equal("gzip", received.Header("Content-Encoding"));
        Assert.Equal(compressed.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("Content-Length"));
    }

    [Fact]
    public async Task QueryString_IsKeptAsSent()
    {
        using HttpResponseMessage response = await _client.PostAsync("/v1/allflags?flagset=a%20b&x=1&x=2", new StringContent("{}"), Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("?flagset=a%20b&x=1&x=2", Assert.Single(response.Headers.GetValues("X-Upstream-Query")));
        Assert.Equal("?flagset=a%20b&x=1&x=2", Assert.Single(_upstream.RequestsTo("/v1/allflags")).Query);
    }

    [Fact]
    public async Task PathAndQuery_ReachTheRelayProxyByteForByte_EscapesUntouched()
    {
        // A flag key holding a slash, escaped as %2F, and escapes that a canonicalizing URI would decode (%41, %7e).
        const string Target = "/v1/feature/team%2Fflag%41%7e/eval?x=%2F&y=a+b%20c";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_collector.Url + Target, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }))
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };

        using HttpResponseMessage response = await _client.SendAsync(request, Cancellation);

        ReceivedRequest received = Assert.Single(_upstream.Requests, r => r.Path.StartsWith("/v1/feature/", StringComparison.Ordinal));
        Assert.Equal(Target, received.RawTarget);
    }

    [Fact]
    public async Task DataCollector_IsAnsweredByTheCollector_AndWritten_NotForwarded()
    {
        using HttpResponseMessage response = await _client.PostAsync(
            "/v1/data/collector",
            new StringContent("""{"events":[{"kind":"feature","key":"collected-flag","userKey":"u","creationDate":1700000000,"value":true,"variation":"on"}]}""", Encoding.UTF8, "application/json"),
            Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await _collector.FlushAsync();

        Assert.Contains("\"key\":\"collected-flag\"", TestCollector.ReadAll(_collector.FeatureDir), StringComparison.Ordinal);
        Assert.Empty(_upstream.RequestsTo("/v1/data/collector"));
    }

    [Theory]
    [InlineData("GET", "/health")]
    [InlineData("GET", "/info")]
    [InlineData("GET", "/v1/unknown")]
    [InlineData("GET", "/v1/data/collector")]
    public async Task CollectorRoutesAndUnknownPaths_AreNeverForwarded(string method, string path)
    {
        using HttpResponseMessage response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Cancellation);

        Assert.NotEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.DoesNotContain(_upstream.Requests, r => r.Path == path);
    }

    [Fact]
    public async Task UnreachableRelayProxy_Is502_NamingRelayProxyUrl()
    {
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        string url = $"http://127.0.0.1:{closedPort}/";
        await using ListeningCollector collector = await ListeningCollector.StartAsync(new Dictionary<string, string?> { ["relayProxyUrl"] = url });
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(collector.Url) };

        using HttpResponseMessage response = await client.PostAsync("/v1/feature/f/eval", new StringContent("{}"), Cancellation);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        string text = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.Equal("""{"message":"relayProxyUrl: the relay proxy did not answer (Request); the collector's log says why."}""", text);
        Assert.Contains($"The relay proxy at relayProxyUrl {url} did not answer (Request)", collector.Logs(), StringComparison.Ordinal);
    }
}

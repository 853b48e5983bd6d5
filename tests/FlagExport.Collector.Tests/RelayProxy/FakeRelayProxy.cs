using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlagExport.Collector.Tests.RelayProxy;

/// <summary>
/// A stand-in for go-feature-flag's relay proxy on a real loopback port: the routes a provider calls, answering as the
/// relay proxy does, and every request it received recorded (method, path, query, headers, body).
/// </summary>
public sealed class FakeRelayProxy : IAsyncDisposable
{
    /// <summary>The ETag of <c>/v1/flag/configuration</c>; a request with it in If-None-Match gets 304.</summary>
    public const string ConfigurationETag = "\"config-v1\"";

    private readonly WebApplication _app;

    private FakeRelayProxy(WebApplication app) => _app = app;

    /// <summary>The base address, such as <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>Every request, in arrival order.</summary>
    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>The eval answers by flag key (the relay proxy's <c>/v1/feature/{key}/eval</c> JSON); a key not here gets FLAG_NOT_FOUND.</summary>
    public ConcurrentDictionary<string, string> EvalAnswers { get; } = new();

    /// <summary>Released by a test to let the server-sent event stream send its second event and end.</summary>
    public TaskCompletionSource SecondEvent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<FakeRelayProxy> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        _ = builder.WebHost.UseUrls("http://127.0.0.1:0");
        _ = builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var proxy = new FakeRelayProxy(app);
        _ = app.UseWebSockets();
        _ = app.Use(async (context, next) =>
        {
            proxy.Requests.Enqueue(await ReceivedRequest.ReadAsync(context.Request));
            await next(context);
        });

        _ = app.MapPost("/v1/feature/{flagKey}/eval", (HttpContext context) => proxy.EvalAsync(context));
        _ = app.MapPost("/v1/allflags", (HttpContext context) =>
        {
            context.Response.Headers["X-Upstream-Query"] = context.Request.QueryString.Value;
            return context.Response.WriteAsync("""{"flags":{},"valid":true}""");
        });
        _ = app.MapPost("/v1/flag/configuration", (HttpContext context) =>
        {
            context.Response.Headers.ETag = ConfigurationETag;
            if (context.Request.Headers.IfNoneMatch == ConfigurationETag)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }

            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("""{"flags":{"bool-flag":{"variations":{"on":true}}}}""");
        });
        _ = app.MapPost("/ofrep/v1/evaluate/flags/{flagKey}", (HttpContext context) =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync($$"""{"key":"{{context.Request.RouteValues["flagKey"]}}","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag not found"}""");
        });
        _ = app.MapGet("/stream/v1/sse/flag/change", (HttpContext context) => proxy.ServerSentEventsAsync(context));
        _ = app.MapGet("/ws/v1/flag/change", (HttpContext context) => EchoAsync(context));
        // The relay proxy's own collector: the collector in front must never send events here.
        _ = app.MapPost("/v1/data/collector", (HttpContext context) =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        });

        await app.StartAsync(TestContext.Current.CancellationToken);
        proxy.Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return proxy;
    }

    /// <summary>The requests received on <paramref name="path"/>.</summary>
    public IReadOnlyList<ReceivedRequest> RequestsTo(string path) => [.. Requests.Where(r => r.Path == path)];

    public async ValueTask DisposeAsync()
    {
        _ = SecondEvent.TrySetResult();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private Task EvalAsync(HttpContext context)
    {
        string key = (string)context.Request.RouteValues["flagKey"]!;
        context.Response.ContentType = "application/json";
        context.Response.Headers["X-Upstream"] = "fake-relay-proxy";
        if (EvalAnswers.TryGetValue(key, out string? answer))
        {
            return context.Response.WriteAsync(answer);
        }

        return context.Response.WriteAsync(
            """{"value":null,"variationType":"SdkDefault","reason":"ERROR","errorCode":"FLAG_NOT_FOUND","failed":true,"trackEvents":true,"version":"","cacheable":false}""");
    }

    /// <summary>One event, then (once <see cref="SecondEvent"/> is released) a second one, then the end of the stream.</summary>
    private async Task ServerSentEventsAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.WriteAsync("event: flag-change\ndata: first\n\n");
        await context.Response.Body.FlushAsync();
        await SecondEvent.Task.WaitAsync(context.RequestAborted);
        await context.Response.WriteAsync("event: flag-change\ndata: second\n\n");
    }

    /// <summary>Answers each text message with <c>echo: message (apiKey=…)</c> until the client closes.</summary>
    private static async Task EchoAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        string apiKey = context.Request.Query["apiKey"].ToString();
        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[4096];
        while (true)
        {
            WebSocketReceiveResult received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                return;
            }

            string text = Encoding.UTF8.GetString(buffer, 0, received.Count);
            await socket.SendAsync(Encoding.UTF8.GetBytes($"echo: {text} (apiKey={apiKey})"), WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
        }
    }
}

/// <summary>A request as the fake relay proxy received it.</summary>
public sealed record ReceivedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public static async Task<ReceivedRequest> ReadAsync(HttpRequest request)
    {
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        if (request.HttpContext.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true || HttpMethods.IsGet(request.Method))
        {
            // An upgrade's body is the upgraded connection: reading it here would wait for the client's websocket frames.
            return new ReceivedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", headers, "") { RawTarget = RawTargetOf(request) };
        }

        request.EnableBuffering();
        using var reader = new StreamReader(request.Body, Encoding.UTF8, leaveOpen: true);
        string body = await reader.ReadToEndAsync();
        request.Body.Position = 0;
        return new ReceivedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", headers, body) { RawTarget = RawTargetOf(request) };
    }

    /// <summary>The request target as received on the wire: path and query, escapes untouched.</summary>
    public string RawTarget { get; init; } = "";

    private static string RawTargetOf(HttpRequest request) => request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";

    /// <summary>The header's value, or null.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;
}

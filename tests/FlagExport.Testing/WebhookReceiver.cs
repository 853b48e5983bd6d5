using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlagExport.Testing;

/// <summary>
/// A webhook endpoint on a real loopback port (Kestrel): records every request it receives (headers and body, read
/// whole before answering) and answers each with the next scripted status, <see cref="Otherwise"/> once the script is
/// used up. A status of
/// <see cref="Hang"/> keeps the request open until the client gives up. A <c>HEAD</c> (a connectivity check) is answered
/// <see cref="HeadStatus"/> and only counted.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    /// <summary>A scripted answer that never comes: the request stays open until the client cancels it.</summary>
    public const int Hang = -1;

    /// <summary>
    /// A scripted answer that comes too late: the request is kept (recorded), then answered 200 only once the client has
    /// given up on it, as a receiver that processed a batch but answered after the sender's timeout.
    /// </summary>
    public const int LateOk = -2;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _script;
    private int _headRequests;

    private WebhookReceiver(WebApplication app, IEnumerable<int> script)
    {
        _app = app;
        _script = new(script);
    }

    /// <summary>The endpoint's URL, such as <c>http://127.0.0.1:41234/hook</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The status of every request after the script: 200 unless a test changes it.</summary>
    public int Otherwise { get; set; } = StatusCodes.Status200OK;

    /// <summary>The status of a <c>HEAD</c>: 405, as for a path that takes only POST, unless a test changes it.</summary>
    public int HeadStatus { get; set; } = StatusCodes.Status405MethodNotAllowed;

    /// <summary>How many <c>HEAD</c> requests came, none of them in <see cref="Requests"/>.</summary>
    public int HeadRequests => _headRequests;

    /// <summary>Every request, in arrival order, with the status it was answered (or <see cref="Hang"/>, <see cref="LateOk"/>).</summary>
    public ConcurrentQueue<Received> Requests { get; } = new();

    public static async Task<WebhookReceiver> StartAsync(params int[] script)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        _ = builder.WebHost.UseUrls("http://127.0.0.1:0");
        _ = builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var receiver = new WebhookReceiver(app, script);
        _ = app.MapPost("/hook", receiver.AnswerAsync);
        _ = app.MapMethods("/hook", [HttpMethods.Head], (HttpContext context) =>
        {
            _ = Interlocked.Increment(ref receiver._headRequests);
            context.Response.StatusCode = receiver.HeadStatus;
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        receiver.Url = address + "/hook";
        return receiver;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        int status = _script.TryDequeue(out int next) ? next : Otherwise;
        Requests.Enqueue(new(
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body.ToArray(),
            status));
        if (status is Hang or LateOk)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            if (status == LateOk)
            {
                context.Response.StatusCode = StatusCodes.Status200OK; // to a connection the client closed: never arrives
            }

            return;
        }

        context.Response.StatusCode = status;
        await context.Response.WriteAsync($"answer {status}", context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    /// <summary>One request as received.</summary>
    public sealed record Received(IReadOnlyDictionary<string, string> Headers, byte[] Body, int Status)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;
    }
}

using System.Net;
using FlagExport.Collector.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FlagExport.Collector.RelayProxy;

/// <summary>
/// Forwards a request to the relay proxy of <c>relayProxyUrl</c> with YARP's direct forwarder, unchanged: method, path,
/// query, headers (Authorization and X-API-Key included, so the relay proxy checks the providers' API keys), body, and
/// back the status, headers (ETag, Cache-Control) and body as it is produced (server-sent events), websocket upgrades
/// included.
/// </summary>
/// <remarks>
/// One <see cref="HttpMessageInvoker"/> for every request: no proxy from the environment, no redirects followed, no
/// cookies kept, no decompression (the bytes and Content-Encoding pass as they are), and no trace headers added. When the
/// relay proxy cannot be reached the answer is YARP's 502 or 504 with a JSON body naming <c>relayProxyUrl</c>, in the
/// shape of the collector's other errors.
/// </remarks>
internal sealed class RelayProxyForwarder : IDisposable
{
    /// <summary>A request and its answer: as YARP's default, idle for longer than this means the relay proxy is stuck.</summary>
    private static readonly ForwarderRequestConfig RequestConfig = new() { ActivityTimeout = TimeSpan.FromSeconds(100) };

    /// <summary>
    /// A change stream: idle for as long as no flag changes, so never timed out; it ends when either side closes it or the
    /// connection fails.
    /// </summary>
    private static readonly ForwarderRequestConfig StreamConfig = new() { ActivityTimeout = Timeout.InfiniteTimeSpan };

    private readonly IHttpForwarder _forwarder;
    private readonly ILogger<RelayProxyForwarder> _logger;
    private readonly string _url;
    private readonly string _destinationPrefix;
    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ActivityHeadersPropagator = null,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        EnableMultipleHttp2Connections = true,
    });

    public RelayProxyForwarder(IHttpForwarder forwarder, ILogger<RelayProxyForwarder> logger, Uri url)
    {
        _forwarder = forwarder;
        _logger = logger;
        _url = url.ToString();
        // The request's path is appended to the prefix: a relay proxy under a base path keeps it, without a doubled slash.
        _destinationPrefix = url.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    /// <summary>Forwards a request and its answer.</summary>
    public Task ForwardAsync(HttpContext context) => SendAsync(context, RequestConfig);

    /// <summary>Forwards a change stream (websocket or server-sent events).</summary>
    public Task ForwardStreamAsync(HttpContext context) => SendAsync(context, StreamConfig);

    /// <summary>Logs where the relay-proxy routes go, once the collector listens.</summary>
    public void LogStarted() => _logger.ForwardingToRelayProxy(_url);

    public void Dispose() => _client.Dispose();

    private async Task SendAsync(HttpContext context, ForwarderRequestConfig config)
    {
        ForwarderError error = await _forwarder.SendAsync(context, _destinationPrefix, _client, config, RawTargetTransformer.Instance);
        if (error == ForwarderError.None)
        {
            return;
        }

        Exception? exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (context.Response.HasStarted || error == ForwarderError.RequestCanceled || context.RequestAborted.IsCancellationRequested
            || context.Response.StatusCode is not (StatusCodes.Status502BadGateway or StatusCodes.Status504GatewayTimeout))
        {
            // Mid-stream or the client's side (it went away, or sent a broken body): nothing to answer, nothing to fix here.
            _logger.RelayProxyStreamEnded(error, context.Request.Path, exception);
            return;
        }

        _logger.RelayProxyUnreachable(_url, error, exception);
        // The cause (a DNS or socket error) goes to the log only: callers need not be authenticated here.
        string message = $"{CollectorSettings.RelayProxyUrlKey}: the relay proxy did not answer ({error}); the collector's log says why.";
        await context.Response.WriteAsJsonAsync(new ErrorResponse(message), CollectorJsonContext.Answers.ErrorResponse, contentType: null, context.RequestAborted);
    }
}

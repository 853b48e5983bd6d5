using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FlagExport.Collector;

/// <content>The messages of the relay-proxy routes (<c>relayProxyUrl</c>); never a header, an API key or a body.</content>
internal static partial class Log
{
    [LoggerMessage(EventId = 40, EventName = "ForwardingToRelayProxy", Level = LogLevel.Information,
        Message = "Forwarding go-feature-flag relay proxy routes (evaluation, OFREP, flag configuration, change streams) to relayProxyUrl {Url}")]
    public static partial void ForwardingToRelayProxy(this ILogger logger, string url);

    [LoggerMessage(EventId = 41, EventName = "RelayProxyUnreachable", Level = LogLevel.Warning,
        Message = "The relay proxy at relayProxyUrl {Url} did not answer ({Error}); the request got 502 or 504")]
    public static partial void RelayProxyUnreachable(this ILogger logger, string url, ForwarderError error, Exception? exception);

    [LoggerMessage(EventId = 42, EventName = "RelayProxyStreamEnded", Level = LogLevel.Debug,
        Message = "Forwarding {Path} to the relay proxy ended early ({Error})")]
    public static partial void RelayProxyStreamEnded(this ILogger logger, ForwarderError error, PathString path, Exception? exception);

    [LoggerMessage(EventId = 43, EventName = "RelayProxyNotConfigured", Level = LogLevel.Warning,
        Message = "A client asked for {Path}, a go-feature-flag relay proxy route, and got 404: set relayProxyUrl to forward these routes to a relay proxy (logged once)")]
    public static partial void RelayProxyNotConfigured(this ILogger logger, string path);
}

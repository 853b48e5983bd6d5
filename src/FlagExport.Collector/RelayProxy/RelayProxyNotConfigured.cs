using FlagExport.Collector.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FlagExport.Collector.RelayProxy;

/// <summary>
/// The answer to a relay-proxy route when <c>relayProxyUrl</c> is not set: 404 with a JSON message saying that the
/// collector only collects and naming the setting, and one warning in the log, since a provider that gets 404 on its
/// evaluations otherwise runs on its default values without a word.
/// </summary>
internal sealed class RelayProxyNotConfigured(ILogger<RelayProxyNotConfigured> logger)
{
    private int _warned;

    /// <summary>Answers 404 naming <c>relayProxyUrl</c>.</summary>
    public Task AnswerAsync(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            logger.RelayProxyNotConfigured(path);
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        string message = $"This collector only collects events (POST /v1/data/collector); {path} is answered by go-feature-flag's relay proxy: " +
            $"set {CollectorSettings.RelayProxyUrlKey} to the relay proxy's address to forward it there.";
        return context.Response.WriteAsJsonAsync(new ErrorResponse(message), CollectorJsonContext.Answers.ErrorResponse, contentType: null, context.RequestAborted);
    }
}

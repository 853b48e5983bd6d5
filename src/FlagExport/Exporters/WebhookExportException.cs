using System.Net;

namespace FlagExport;

/// <summary>
/// A <see cref="WebhookExporter"/> request failed: the endpoint answered with a status other than 2xx, or could not be
/// reached. The message names the endpoint (without credentials or query), the batch and the status or the cause.
/// </summary>
public sealed class WebhookExportException : Exception, IExportFailure
{
    /// <summary>Creates an exception with a default message.</summary>
    public WebhookExportException()
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/>.</summary>
    public WebhookExportException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    public WebhookExportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal WebhookExportException(string message, HttpStatusCode statusCode)
        : base(message) => StatusCode = statusCode;

    /// <summary>The status the endpoint answered with, or <see langword="null"/> when it did not answer.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>
    /// Whether retrying the same body cannot help: a 4xx answer other than 408 (Request Timeout) and 429 (Too Many
    /// Requests), such as 400, 401, 403, 404 or 413. Anything else (5xx, 3xx, no answer) is transient.
    /// </summary>
    public bool IsPermanent => IsPermanentStatus(StatusCode);

    /// <inheritdoc/>
    string IExportFailure.Reason => Message;

    internal static bool IsPermanentStatus(HttpStatusCode? status) =>
        status is { } code && (int)code is >= 400 and < 500 && code is not HttpStatusCode.RequestTimeout and not HttpStatusCode.TooManyRequests;
}

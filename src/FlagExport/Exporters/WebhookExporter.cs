using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using FlagExport.Formats;

namespace FlagExport;

/// <summary>
/// Posts each batch to an HTTP endpoint as go-feature-flag's webhook exporter does, byte for byte:
/// <c>{"meta":{…},"events":[…]}</c>, signed with <c>X-Hub-Signature-256</c> when a secret is set.
/// </summary>
/// <remarks>
/// <para>A 2xx answer means the batch is delivered. Any other answer, or none, is a failed attempt thrown as a
/// <see cref="WebhookExportException"/>: the pipeline retries it with backoff and, after its retry duration, sets it aside
/// as a dead letter; a 4xx other than 408 and 429 is permanent, a dead letter at once. How long an attempt may take is
/// the pipeline's export timeout.</para>
/// <para>Every attempt of a batch carries the batch's <see cref="ExportBatch.Id"/> as <c>Idempotency-Key</c>: the same on
/// each retry and, with the durable buffer, across restarts. A receiver that remembers the keys it has acknowledged can
/// answer a retry whose earlier answer was lost without keeping it twice; to any other receiver, delivery is at least
/// once.</para>
/// </remarks>
public sealed class WebhookExporter : IEncodingExporter, IDisposable
{
    /// <summary>The header carrying the batch's identity on every attempt.</summary>
    internal const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>
    /// The header that asks a FlagExport collector to keep each event's own <c>metadata</c>, with the value
    /// <see cref="OwnEventMetadata"/>. Without it a collector applies go-feature-flag's rule: the body's <c>meta</c>
    /// replaces every feature event's metadata. The exporter sends each event with the metadata it was given, so a
    /// collector → webhook → collector chain writes the same events at both ends; go-feature-flag's relay proxy ignores
    /// the header and applies its rule.
    /// </summary>
    internal const string EventMetadataHeader = "FlagExport-Event-Metadata";

    /// <summary>The value of <see cref="EventMetadataHeader"/>: the events carry their own metadata.</summary>
    internal const string OwnEventMetadata = "own";

    /// <summary>How much of a failed answer's body goes into the error message.</summary>
    private const int MaxAnswerExcerptBytes = 512;

    /// <summary>How long <see cref="VerifyEndpointAsync"/> waits for an answer.</summary>
    private static readonly TimeSpan VerifyTimeout = TimeSpan.FromSeconds(10);

    private static readonly SearchValues<char> HeaderNameChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private readonly Uri _endpoint;
    private readonly string _location;
    private readonly byte[]? _secret;
    private readonly byte[] _bodyStart;
    private readonly KeyValuePair<string, string[]>[] _headers;
    private readonly HttpClient _client;
    private readonly bool _ownsClient;

    /// <summary>Creates an exporter, checking every option.</summary>
    /// <param name="options">Where to post and what to add to each request.</param>
    /// <param name="eventType">The kind of events this exporter receives.</param>
    /// <param name="httpClient">
    /// The client to send with, which the exporter does not dispose; by default one of its own that follows no redirect.
    /// Leave its timeout infinite: the pipeline's export timeout cancels an attempt.
    /// </param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public WebhookExporter(WebhookExporterOptions options, EventType eventType = EventType.Feature, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _endpoint = Validate(options);
        _location = LocationOf(_endpoint);
        _secret = string.IsNullOrEmpty(options.Secret) ? null : Encoding.UTF8.GetBytes(options.Secret);
        _bodyStart = BodyStart(options.Meta);
        _headers = [.. options.Headers
            .Where(h => !IsExporterHeader(h.Key))
            .Select(h => KeyValuePair.Create(h.Key, h.Value.ToArray()))];
        EventType = eventType;
        _ownsClient = httpClient is null;
        _client = httpClient ?? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <inheritdoc/>
    public EventType EventType { get; }

    /// <summary>The endpoint, without credentials or query: what the logs and errors show.</summary>
    internal string Location => _location;

    /// <summary>The endpoint as logs and errors show it: without credentials or query, which may hold a token.</summary>
    internal static string LocationOf(Uri endpoint) =>
        endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <summary>Checks <paramref name="options"/> and returns the endpoint.</summary>
    internal static Uri Validate(WebhookExporterOptions options)
    {
        if (!Uri.TryCreate(options.EndpointUrl, UriKind.Absolute, out Uri? endpoint)
            || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw OptionErrors.Invalid(
                $"EndpointUrl must be an absolute http or https URL, such as 'https://example.com/webhook'; got '{options.EndpointUrl}'.",
                nameof(options.EndpointUrl));
        }

        // An empty secret means no signature, as in go-feature-flag; a blank one is a mistake (a receiver would refuse).
        if (options.Secret is { Length: > 0 } secret && string.IsNullOrWhiteSpace(secret))
        {
            throw OptionErrors.Invalid("Secret is blank; leave it empty for unsigned requests or set the receiver's secret.", nameof(options.Secret));
        }

        foreach ((string name, List<string> values) in options.Headers)
        {
            string option = $"{nameof(options.Headers)}:{name}";
            if (name.Length == 0 || name.AsSpan().ContainsAnyExcept(HeaderNameChars))
            {
                throw OptionErrors.Invalid($"{option} is not a valid HTTP header name; got '{name}'.", option);
            }

            if (values.Count == 0)
            {
                throw OptionErrors.Invalid($"{option} has no value; give it a list of values, such as [\"Bearer my-token\"].", option);
            }

            foreach (string value in values)
            {
                if (value is null || value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
                {
                    throw OptionErrors.Invalid($"{option} has a value with a line break or NUL, which HTTP does not allow; got '{value}'.", option);
                }
            }
        }

        return endpoint;
    }

    /// <summary>Headers the exporter sets itself, which replace configured ones of the same name.</summary>
    private static bool IsExporterHeader(string name) =>
        name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
        || name.Equals(WebhookSigning.Header, StringComparison.OrdinalIgnoreCase)
        || name.Equals(IdempotencyKeyHeader, StringComparison.OrdinalIgnoreCase)
        || name.Equals(EventMetadataHeader, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <c>{"meta":{…},"events":[</c>: the meta entries in UTF-8 byte order of their keys (Go's order for a map), with
    /// the machine's name under <c>hostname</c> unless one is configured.
    /// </summary>
    private static byte[] BodyStart(Dictionary<string, string> meta)
    {
        var entries = new SortedDictionary<string, string>(meta, Utf8OrdinalComparer.Instance);
        _ = entries.TryAdd("hostname", Dns.GetHostName());
        using var output = new PooledBufferWriter(4096);
        output.Write("{\"meta\":{"u8);
        bool first = true;
        foreach ((string key, string value) in entries)
        {
            if (!first)
            {
                output.Write(","u8);
            }

            first = false;
            GoJson.WriteString(output, key);
            output.Write(":"u8);
            GoJson.WriteString(output, value ?? "");
        }

        output.Write("},\"events\":["u8);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Checks that the endpoint answers HTTP, without creating anything there: a <c>HEAD</c> request (safe by HTTP's
    /// rules, so a receiver keeps nothing) with the configured headers. Any answer proves the name resolves, the
    /// connection and the TLS handshake succeed and an HTTP server listens; what it answers, 401 and 405 included, is
    /// returned, not judged: a receiver may refuse a <c>HEAD</c>, or a request without a signed body, and still accept the
    /// posts. Credentials and the signature are proven by the first post, whose 401 is a permanent failure.
    /// </summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The status the endpoint answered.</returns>
    /// <exception cref="WebhookExportException">
    /// The name does not resolve, the connection is refused or reset, the TLS handshake fails, or no answer came within
    /// 10 seconds; the message names the endpoint and the cause.
    /// </exception>
    public async Task<HttpStatusCode> VerifyEndpointAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, _endpoint);
        foreach ((string name, string[] values) in _headers)
        {
            _ = request.Headers.TryAddWithoutValidation(name, values); // content headers have no place in a HEAD
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(VerifyTimeout);
        try
        {
            using HttpResponseMessage response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return response.StatusCode;
        }
        catch (HttpRequestException error)
        {
            throw new WebhookExportException($"The webhook endpoint '{_location}' cannot be reached: {CauseOf(error)}.", error);
        }
        catch (OperationCanceledException error) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WebhookExportException(
                string.Create(CultureInfo.InvariantCulture, $"The webhook endpoint '{_location}' did not answer within {VerifyTimeout.TotalSeconds} seconds."), error);
        }
    }

    /// <summary>Writes the body for <paramref name="events"/>, as go-feature-flag's <c>json.Marshal</c> of its payload writes it.</summary>
    private async ValueTask EncodeBodyAsync(IReadOnlyList<ExportableEvent> events, PooledBufferWriter output, CancellationToken cancellationToken)
    {
        output.Write(_bodyStart);
        int start = output.WrittenCount;
        try
        {
            await JsonLinesEncoder.Instance.EncodeAsync(events, output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new ExportEncodingException($"{events.Count} events could not be encoded as a webhook body: {exception.Message}", exception);
        }

        // Each event as a JSON line is exactly its json.Marshal bytes and a newline, and the compact JSON holds no other
        // newline (strings escape it): turning every newline into a comma, and the last into the array's end, gives
        // the array. The buffer is this method's own, so writing into its written bytes is safe.
        Span<byte> array = MemoryMarshal.AsMemory(output.WrittenMemory).Span[start..];
        array.Replace((byte)'\n', (byte)',');
        array[^1] = (byte)']';
        output.Write("}"u8);
    }

    /// <inheritdoc/>
    public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var body = new PooledBufferWriter();
        await EncodeBodyAsync(batch.Events, body, cancellationToken).ConfigureAwait(false);

        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ReadOnlyMemoryContent(body.WrittenMemory) };
        foreach ((string name, string[] values) in _headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, values))
            {
                _ = request.Content.Headers.TryAddWithoutValidation(name, values); // a content header, such as Content-Language
            }
        }

        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (_secret is not null)
        {
            _ = request.Headers.TryAddWithoutValidation(WebhookSigning.Header, WebhookSigning.Sign(_secret, body.WrittenSpan));
        }

        _ = request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, batch.Id);
        _ = request.Headers.TryAddWithoutValidation(EventMetadataHeader, OwnEventMetadata);

        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException error)
        {
            throw new WebhookExportException(
                $"Could not post batch {batch.Id} ({batch.Events.Count} events, {body.WrittenCount} bytes) to the webhook {_location}: {CauseOf(error)}.", error);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                batch.ReportWritten(_location, batch.Events.Count, body.WrittenCount);
                return;
            }

            string excerpt = await ReadExcerptAsync(response, cancellationToken).ConfigureAwait(false);
            bool permanent = WebhookExportException.IsPermanentStatus(response.StatusCode);
            throw new WebhookExportException(
                string.Create(CultureInfo.InvariantCulture,
                    $"The webhook {_location} answered {(int)response.StatusCode} {response.ReasonPhrase} to batch {batch.Id} ({batch.Events.Count} events, {body.WrittenCount} bytes){(permanent ? ", which no retry can change" : "")}{(excerpt.Length > 0 ? ": " + excerpt : ".")}"),
                response.StatusCode);
        }
    }

    /// <summary>
    /// Why a request got no answer, on one line without a final period. A failed TLS handshake says only "see inner
    /// exception"; the inner one says what went wrong (an untrusted certificate, a server that does not speak TLS).
    /// </summary>
    private static string CauseOf(HttpRequestException error)
    {
        string cause = error.HttpRequestError == HttpRequestError.SecureConnectionError && error.InnerException is { } inner
            ? "the TLS handshake failed: " + inner.Message
            : error.Message;
        return cause.ReplaceLineEndings(" ").TrimEnd('.');
    }

    /// <summary>The start of a failed answer's body, on one line, for the error message; empty when it cannot be read.</summary>
    private static async Task<string> ReadExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxAnswerExcerptBytes);
        try
        {
            Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                int read = await stream.ReadAtLeastAsync(buffer.AsMemory(0, MaxAnswerExcerptBytes), MaxAnswerExcerptBytes, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                string text = Encoding.UTF8.GetString(buffer, 0, read);
                return string.Create(text.Length, text, static (span, text) =>
                {
                    for (int i = 0; i < text.Length; i++)
                    {
                        span[i] = char.IsControl(text[i]) ? ' ' : text[i];
                    }
                }).Trim();
            }
        }
        catch (Exception error) when (error is HttpRequestException or IOException)
        {
            return "";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The body an attempt posts for <paramref name="events"/>, for a dead letter.</summary>
    /// <inheritdoc/>
    async ValueTask<(PooledBufferWriter Content, string FileName)> IEncodingExporter.EncodeObjectAsync(IReadOnlyList<ExportableEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var body = new PooledBufferWriter();
        try
        {
            await EncodeBodyAsync(events, body, cancellationToken).ConfigureAwait(false);
            return (body, "webhook-body.json");
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the exporter's own HTTP client; one passed in is the caller's.</summary>
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }
}

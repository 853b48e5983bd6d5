namespace FlagExport;

/// <summary>Options of <see cref="WebhookExporter"/>, named as go-feature-flag's webhook exporter names them.</summary>
/// <remarks>
/// Values are checked when the exporter is created; a bad value throws an <see cref="ArgumentException"/> that names the
/// option and the value.
/// </remarks>
public sealed class WebhookExporterOptions
{
    /// <summary>The absolute <c>http</c> or <c>https</c> URL each batch is posted to. Required.</summary>
    public string EndpointUrl { get; set; } = "";

    /// <summary>
    /// The secret the body is signed with: when set, each request carries
    /// <c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>, which the receiver checks. Optional.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>
    /// The <c>meta</c> object of every body. A <c>hostname</c> entry is added, with the machine's name, when it has none,
    /// as go-feature-flag does.
    /// </summary>
    public Dictionary<string, string> Meta { get; } = [];

    /// <summary>
    /// Headers added to every request, each with one or more values (in configuration a list:
    /// <c>Authorization: ["Bearer …"]</c>). <c>Content-Type</c> and <c>X-Hub-Signature-256</c> are the exporter's and
    /// replace a configured one, as in go-feature-flag; so are <c>Idempotency-Key</c> and
    /// <c>FlagExport-Event-Metadata</c>.
    /// </summary>
    public Dictionary<string, List<string>> Headers { get; } = [];

    /// <summary>
    /// <see langword="true"/> to check, when the host starts, that the endpoint answers HTTP
    /// (<see cref="WebhookExporter.VerifyEndpointAsync"/>), so that a wrong host or port, a closed port or a TLS failure
    /// stops the start-up with a clear message instead of failing the first export. Set it to <see langword="false"/> where
    /// the receiver may not be up yet when the host starts. The default value is <see langword="true"/>.
    /// </summary>
    public bool VerifyEndpointOnStart { get; set; } = true;
}

using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// The collector's own settings, read from the configuration root with the relay proxy's key names (appsettings.json,
/// environment variables such as <c>exporters__0__format</c>, or the YAML file given with <c>--config</c>).
/// </summary>
/// <remarks>
/// Everything is checked at once, each problem naming its key as written in YAML (<c>maxRequestBodySize</c>,
/// <c>server.port</c>). The exporters' options are not read here: <see cref="RelayProxyAliases"/> hands their keys to the
/// library's binder and validators.
/// </remarks>
internal sealed partial class CollectorSettings
{
    /// <summary>
    /// The default for <see cref="MaxRequestBodySize"/>: 64 MiB. Providers keep the events of a refused post and send them
    /// again with the next ones, so a batch grows while they cannot send, and a 413 would refuse it for ever.
    /// </summary>
    public const long DefaultMaxRequestBodySize = 64L * 1024 * 1024;

    /// <summary>
    /// The default file name of the collector's exporters. Unlike the library's default it carries a UUID, so that several
    /// instances, on one host or many, never pick the same name even where the store cannot refuse an overwrite.
    /// </summary>
    public const string DefaultFilename = "flag-variation-{{ .Hostname}}-{{ .Timestamp}}-{{ .UUID}}.{{ .Format}}";

    /// <summary>The largest <see cref="MaxRequestBodySize"/> accepted: 1 GiB (a body's events are held in memory until it is checked).</summary>
    public const long MaxMaxRequestBodySize = 1L << 30;

    /// <summary>The largest request body accepted, in bytes; larger bodies get 413. The default value is 64 MiB.</summary>
    public long MaxRequestBodySize { get; private init; } = DefaultMaxRequestBodySize;

    /// <summary>
    /// The default for <see cref="MaxRequestExpandedBytes"/>: 128 MiB, twice the default body limit, so that a body within
    /// that limit whose events carry no request <c>meta</c> never reaches it (its events' bytes are at most the body's).
    /// </summary>
    public const long DefaultMaxRequestExpandedBytes = 128L * 1024 * 1024;

    /// <summary>The largest <see cref="MaxRequestExpandedBytes"/> accepted: 64 GiB.</summary>
    public const long MaxMaxRequestExpandedBytes = 64L << 30;

    /// <summary>
    /// <c>maxRequestExpandedBytes</c>: the most bytes of events a request may expand to, in bytes; larger requests get
    /// 413 and nothing of them is kept. The request's <c>meta</c> is written into every feature event's metadata, so a
    /// small body can stand for far more output: what a request expands to is counted as the bytes of each converted
    /// event as sent, plus the bytes of <c>meta</c> once per feature event. The default value is 128 MiB.
    /// </summary>
    public long MaxRequestExpandedBytes { get; private init; } = DefaultMaxRequestExpandedBytes;

    /// <summary>
    /// The API keys (<c>apiKeys</c> and <c>authorizedKeys.evaluation</c>) a request may present; empty means no key is
    /// required.
    /// </summary>
    public IReadOnlyList<string> ApiKeys { get; private init; } = [];

    /// <summary>
    /// The relay proxy's admin keys (<c>authorizedKeys.admin</c>): accepted too when keys are required, but, as in the
    /// relay proxy, they alone do not make keys required.
    /// </summary>
    public IReadOnlyList<string> AdminKeys { get; private init; } = [];

    /// <summary>
    /// <c>webhookSecret</c>: the secret of a go-feature-flag webhook exporter; a request signed with it
    /// (<c>X-Hub-Signature-256</c>) needs no API key, and, when set, a request with neither is refused.
    /// <see langword="null"/> when not set.
    /// </summary>
    public string? WebhookSecret { get; private init; }

    /// <summary>The exporters to register, in order: the relay-proxy entries with a valid kind, or the embedded default.</summary>
    public IReadOnlyList<ExporterSpec> Exporters => Aliases.Exporters;

    /// <summary>The relay-proxy exporter and durability keys, translated to the library's.</summary>
    public required RelayProxyAliases Aliases { get; init; }

    /// <summary>
    /// The URL the relay proxy's <c>server.mode</c>, <c>server.port</c>/<c>listen</c>, <c>server.host</c> and
    /// <c>server.unixSocketPath</c> ask for; <see langword="null"/> when none is set.
    /// </summary>
    public string? ListenUrls { get; private init; }

    /// <summary>The socket of <c>server.mode: unixsocket</c>, else <see langword="null"/>.</summary>
    public string? UnixSocketPath { get; private init; }

    /// <summary>
    /// <see langword="true"/> when the relay proxy's <c>monitoringPort</c> (or <c>server.monitoringPort</c>) is set: the
    /// collector serves its monitoring endpoints on its main address and says so at start-up.
    /// </summary>
    public bool MonitoringPortIgnored { get; private init; }

    /// <summary><see langword="true"/> when no exporter was configured and the embedded default is used.</summary>
    public bool UsesDefaultExporter => Aliases.NoneConfigured;

    /// <summary>Reads and checks the settings.</summary>
    /// <exception cref="CollectorConfigurationException">Something is invalid; every problem is listed.</exception>
    public static CollectorSettings Read(IConfiguration configuration)
    {
        var errors = new List<string>();
        CollectorSettings settings = Read(configuration, errors);
        return errors.Count > 0 ? throw new CollectorConfigurationException(errors) : settings;
    }

    /// <summary>
    /// Reads the settings, adding every problem to <paramref name="errors"/>. The exporters' own options are only
    /// translated here (<see cref="Aliases"/>); the library's validators judge them once the services are built.
    /// </summary>
    public static CollectorSettings Read(IConfiguration configuration, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(errors);

        long maxBody = DefaultMaxRequestBodySize;
        if (configuration["maxRequestBodySize"] is { } maxBodyText
            && (!long.TryParse(maxBodyText, NumberStyles.None, CultureInfo.InvariantCulture, out maxBody) || maxBody is <= 0 or > MaxMaxRequestBodySize))
        {
            errors.Add($"maxRequestBodySize: must be a number of bytes between 1 and {MaxMaxRequestBodySize.ToString(CultureInfo.InvariantCulture)} (1 GiB); got '{maxBodyText}'.");
            maxBody = DefaultMaxRequestBodySize;
        }

        long maxExpanded = DefaultMaxRequestExpandedBytes;
        if (configuration["maxRequestExpandedBytes"] is { } maxExpandedText
            && (!long.TryParse(maxExpandedText, NumberStyles.None, CultureInfo.InvariantCulture, out maxExpanded) || maxExpanded is <= 0 or > MaxMaxRequestExpandedBytes))
        {
            errors.Add($"maxRequestExpandedBytes: must be a number of bytes between 1 and {MaxMaxRequestExpandedBytes.ToString(CultureInfo.InvariantCulture)} (64 GiB); got '{maxExpandedText}'.");
            maxExpanded = DefaultMaxRequestExpandedBytes;
        }

        string? listenUrls = ListenAddress.Read(configuration, errors, out string? unixSocketPath);

        var keys = new List<string>();
        ReadKeys(configuration.GetSection("apiKeys"), "apiKeys", keys, errors);
        ReadKeys(configuration.GetSection("authorizedKeys:evaluation"), "authorizedKeys.evaluation", keys, errors);
        var adminKeys = new List<string>();
        ReadKeys(configuration.GetSection("authorizedKeys:admin"), "authorizedKeys.admin", adminKeys, errors);
        string? webhookSecret = configuration["webhookSecret"];
        if (webhookSecret is not null && string.IsNullOrWhiteSpace(webhookSecret))
        {
            errors.Add("webhookSecret: must be a non-empty string; remove the key to accept requests without a signature.");
        }

        RelayProxyAliases aliases = RelayProxyAliases.Read(configuration, errors);
        Uri? relayProxyUrl = ReadRelayProxyUrl(configuration, errors);
        List<OtlpGrpcAddress> otlpGrpcUrls = ReadOtlpGrpcUrls(configuration, errors);
        TimeSpan idempotencyKeyRetention = ReadIdempotencyKeyRetention(configuration, errors);
        int maxIdempotencyKeys = ReadMaxIdempotencyKeys(configuration, errors);
        bool monitoringPortIgnored = configuration["monitoringPort"] is not null || configuration["server:monitoringPort"] is not null;
        return new CollectorSettings
        {
            ListenUrls = listenUrls, UnixSocketPath = unixSocketPath, MonitoringPortIgnored = monitoringPortIgnored, MaxRequestBodySize = maxBody,
            MaxRequestExpandedBytes = maxExpanded,
            ApiKeys = keys, AdminKeys = adminKeys, WebhookSecret = webhookSecret, Aliases = aliases, RelayProxyUrl = relayProxyUrl,
            OtlpGrpcUrls = otlpGrpcUrls, IdempotencyKeyRetention = idempotencyKeyRetention, MaxIdempotencyKeys = maxIdempotencyKeys,
        };
    }

    private static void ReadKeys(IConfigurationSection section, string path, List<string> keys, List<string> errors)
    {
        if (section.Value is { Length: > 0 } scalar)
        {
            errors.Add($"{path}: must be a list of keys; got a single value.");
            return;
        }

        foreach (IConfigurationSection entry in section.GetChildren())
        {
            if (string.IsNullOrWhiteSpace(entry.Value))
            {
                // Never echo anything that might be a key.
                errors.Add($"{path}[{entry.Key}]: must be a non-empty string.");
            }
            else
            {
                keys.Add(entry.Value);
            }
        }
    }
}

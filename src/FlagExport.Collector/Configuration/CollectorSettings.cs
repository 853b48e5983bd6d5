using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// The collector's own settings, read from the configuration root with the relay proxy's key names (appsettings.json,
/// environment variables such as <c>exporters__0__format</c>, or the YAML file given with <c>--config</c>).
/// </summary>
/// <remarks>
/// Everything is checked at once: <see cref="Read"/> throws a <see cref="CollectorConfigurationException"/> listing every
/// problem, each naming its key as written in YAML (<c>exporters[1].format</c>).
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

    /// <summary>The library's bound on FlushInterval (one day), in the relay proxy's milliseconds.</summary>
    private static readonly long MaxFlushIntervalMilliseconds = (long)DataExporterOptionsValidator.MaxFlushInterval.TotalMilliseconds;

    // The keys of both kinds: the file options every exporter writing files has, and the pipeline's.
    private static readonly string[] SharedKeys =
        ["format", "filename", "csvTemplate", "parquetCompressionCodec", "flushInterval", "maxEventInMemory", "eventType"];

    private static readonly string[] FileKeys = ["kind", "outputDir", .. SharedKeys];

    private static readonly string[] S3Keys =
        ["kind", "bucket", "path", .. SharedKeys,
         "serviceUrl", "forcePathStyle", "region", "storageClass", "compression", "requestChecksumCalculation", "serverSideEncryption",
         "sseKmsKeyId", "tags", "multipartThreshold", "multipartPartSize", "multipartConcurrency", "verifyBucketOnStart", "conditionalWrites"];

    // Keys that would carry secrets: refused wherever they appear in an exporter, with a pointer to the AWS sources.
    private static readonly string[] CredentialKeys =
        ["accessKey", "accessKeyId", "secretKey", "secretAccessKey", "sessionToken", "awsAccessKeyId", "awsSecretAccessKey",
         "awsSessionToken", "secret", "credentials", "password", "token"];

    /// <summary>The largest request body accepted, in bytes; larger bodies get 413. The default value is 64 MiB.</summary>
    public long MaxRequestBodySize { get; private init; } = DefaultMaxRequestBodySize;

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

    /// <summary>The exporters to register, in order.</summary>
    public IReadOnlyList<ExporterSpec> Exporters { get; private init; } = [];

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
    public bool UsesDefaultExporter { get; private init; }

    /// <summary>Reads and checks the settings.</summary>
    /// <exception cref="CollectorConfigurationException">Something is invalid; every problem is listed.</exception>
    public static CollectorSettings Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var errors = new List<string>();

        long maxBody = DefaultMaxRequestBodySize;
        if (configuration["maxRequestBodySize"] is { } maxBodyText
            && (!long.TryParse(maxBodyText, NumberStyles.None, CultureInfo.InvariantCulture, out maxBody) || maxBody is <= 0 or > MaxMaxRequestBodySize))
        {
            errors.Add($"maxRequestBodySize: must be a number of bytes between 1 and {MaxMaxRequestBodySize.ToString(CultureInfo.InvariantCulture)} (1 GiB); got '{maxBodyText}'.");
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

        var exporters = new List<ExporterSpec>();
        IConfigurationSection single = configuration.GetSection("exporter");
        if (single.GetChildren().Any())
        {
            Add(ReadExporter(single, "exporter", exporters.Count, errors));
        }

        IConfigurationSection list = configuration.GetSection("exporters");
        foreach (IConfigurationSection entry in list.GetChildren())
        {
            if (!int.TryParse(entry.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                errors.Add($"exporters: must be a list of exporters; found the key '{entry.Key}'.");
                break;
            }

            Add(ReadExporter(entry, $"exporters[{index.ToString(CultureInfo.InvariantCulture)}]", exporters.Count, errors));
        }

        // An entry that gave no exporter gave an error, so no exporters and no errors means none was configured.
        bool useDefault = exporters.Count == 0 && errors.Count == 0;
        if (useDefault)
        {
            exporters.Add(new FileExporterSpec
            {
                Name = "exporter-0",
                Path = "default exporter",
                Pipeline = new PipelineSettings(null, null, EventType.Feature),
                Options = new FileExporterOptions { Filename = DefaultFilename },
            });
        }

        CollectorSettings durability = ReadDurability(configuration, errors);
        Uri? relayProxyUrl = ReadRelayProxyUrl(configuration, errors);
        if (errors.Count > 0)
        {
            throw new CollectorConfigurationException(errors);
        }

        bool monitoringPortIgnored = configuration["monitoringPort"] is not null || configuration["server:monitoringPort"] is not null;
        return new CollectorSettings
        {
            ListenUrls = listenUrls, UnixSocketPath = unixSocketPath, MonitoringPortIgnored = monitoringPortIgnored, MaxRequestBodySize = maxBody,
            ApiKeys = keys, AdminKeys = adminKeys, WebhookSecret = webhookSecret, Exporters = exporters, UsesDefaultExporter = useDefault,
            BufferDirectory = durability.BufferDirectory, MaxBufferBytes = durability.MaxBufferBytes,
            DeadLetterDirectory = durability.DeadLetterDirectory, MaxRetryDuration = durability.MaxRetryDuration,
            RelayProxyUrl = relayProxyUrl,
        };

        void Add(ExporterSpec? spec)
        {
            if (spec is not null)
            {
                exporters.Add(spec);
            }
        }
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

    private static ExporterSpec? ReadExporter(IConfigurationSection section, string path, int number, List<string> errors)
    {
        int before = errors.Count;
        string? kind = section["kind"];
        string[] validKeys;
        switch (kind?.ToUpperInvariant())
        {
            case "FILE":
                validKeys = FileKeys;
                break;
            case "S3":
                validKeys = S3Keys;
                break;
            case null or "":
                errors.Add($"{path}.kind: is required; valid values are {ExporterKinds}.");
                return null;
            default:
                errors.Add($"{path}.kind: '{kind}' is not a supported exporter kind; valid values are {ExporterKinds}.");
                return null;
        }

        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (CredentialKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{path}.{child.Key}: credentials are never read from the configuration; use the standard AWS sources " +
                    "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or an instance or container role).");
            }
            else if (!validKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{path}.{child.Key}: is not a setting of a '{kind}' exporter; valid keys are {string.Join(", ", validKeys)}.");
            }
        }

        PipelineSettings pipeline = ReadPipeline(section, path, errors);
        string name = $"exporter-{number.ToString(CultureInfo.InvariantCulture)}";
        ExporterSpec spec = validKeys == S3Keys
            ? ReadS3(section, path, name, pipeline, errors)
            : ReadFile(section, path, name, pipeline, errors);
        return errors.Count > before ? null : spec;
    }

    private static FileExporterSpec ReadFile(IConfigurationSection section, string path, string name, PipelineSettings pipeline, List<string> errors)
    {
        var options = new FileExporterOptions { OutputDir = section["outputDir"] ?? FileExporterOptions.DefaultOutputDir };
        ReadFileOptions(section, options);
        if (string.IsNullOrWhiteSpace(options.OutputDir))
        {
            errors.Add($"{path}.outputDir: must name a folder; got '{options.OutputDir}'.");
        }
        else
        {
            Check(path, errors, () => _ = new FileExporter(options, pipeline.EventType));
        }

        return new FileExporterSpec { Name = name, Path = path, Pipeline = pipeline, Options = options };
    }

    /// <summary>Reads the options every file-writing kind shares, with the collector's default file name.</summary>
    private static void ReadFileOptions(IConfigurationSection section, ExportFileOptions options)
    {
        options.Format = section["format"] ?? ExportFileOptions.DefaultFormat;
        options.Filename = section["filename"] ?? DefaultFilename;
        options.CsvTemplate = section["csvTemplate"] ?? ExportFileOptions.DefaultCsvTemplate;
        options.ParquetCompressionCodec = section["parquetCompressionCodec"] ?? ExportFileOptions.DefaultParquetCompressionCodec;
    }

    private static string ExporterKinds => "file, s3";

    private static PipelineSettings ReadPipeline(IConfigurationSection section, string path, List<string> errors)
    {
        TimeSpan? flushInterval = ReadMilliseconds(section["flushInterval"], $"{path}.flushInterval", MaxFlushIntervalMilliseconds, NumberStyles.AllowLeadingSign, errors);

        int? maxEventInMemory = null;
        if (section["maxEventInMemory"] is { } maxText)
        {
            if (int.TryParse(maxText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int max)
                && max is > 0 and <= DataExporterOptionsValidator.MaxEventInMemoryLimit)
            {
                maxEventInMemory = max;
            }
            else
            {
                errors.Add($"{path}.maxEventInMemory: must be a whole number between 1 and {DataExporterOptionsValidator.MaxEventInMemoryLimit.ToString(CultureInfo.InvariantCulture)}; got '{maxText}'.");
            }
        }

        EventType eventType = EventType.Feature;
        switch (section["eventType"]?.ToUpperInvariant())
        {
            case null or "" or "FEATURE":
                break;
            case "TRACKING":
                eventType = EventType.Tracking;
                break;
            default:
                errors.Add($"{path}.eventType: '{section["eventType"]}' is not a valid event type; valid values are feature, tracking.");
                break;
        }

        return new PipelineSettings(flushInterval, maxEventInMemory, eventType);
    }

    /// <summary>
    /// A duration written as whole milliseconds between 1 and <paramref name="max"/>, as go-feature-flag writes them; null
    /// when <paramref name="text"/> is missing or invalid (then an error naming <paramref name="key"/> is added).
    /// </summary>
    private static TimeSpan? ReadMilliseconds(string? text, string key, long max, NumberStyles styles, List<string> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (long.TryParse(text, styles, CultureInfo.InvariantCulture, out long milliseconds) && milliseconds > 0 && milliseconds <= max)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        errors.Add($"{key}: must be a whole number of milliseconds between 1 and {max.ToString(CultureInfo.InvariantCulture)}; got '{text}'.");
        return null;
    }

    /// <summary>Runs an exporter constructor and turns its <see cref="ArgumentException"/> into a message naming the YAML key.</summary>
    private static void Check(string path, List<string> errors, Action create)
    {
        try
        {
            create();
        }
        catch (ArgumentException error)
        {
            errors.Add(Describe(path, error));
        }
    }

    /// <summary>
    /// "Format 'xml' is not a valid format…" (about the option <c>Format</c>) becomes
    /// "exporters[1].format: 'xml' is not a valid format…".
    /// </summary>
    internal static string Describe(string path, ArgumentException error)
    {
        string message = OptionErrors.MessageOf(error);
        string? option = error.ParamName;
        if (option is null || option.Length == 0 || !char.IsUpper(option[0]))
        {
            return $"{path}: {message}";
        }

        string key = YamlKey(option);
        message = message.StartsWith(option + " ", StringComparison.Ordinal)
            ? message[(option.Length + 1)..]
            : message.Replace(option, key, StringComparison.Ordinal);
        return $"{path}.{key}: {message}";
    }

    /// <summary>The YAML key of a FlagExport option: <c>S3Path</c> is <c>path</c>, the rest are camelCase.</summary>
    internal static string YamlKey(string option) => option switch
    {
        "S3Path" => "path",
        _ => string.Concat([char.ToLowerInvariant(option[0])], option.AsSpan(1)),
    };
}

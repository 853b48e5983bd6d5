using System.Reflection;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Ingestion;
using FlagExport.Collector.Otlp;
using FlagExport.Collector.RelayProxy;
using FlagExport.Collector.Security;
using FlagExport.Durability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace FlagExport.Collector;

/// <summary>
/// Builds the collector: configuration (appsettings.json, YAML with <c>--config</c>, environment variables, command line),
/// the exporters, the endpoints and the metrics.
/// </summary>
internal static class CollectorApp
{
    /// <summary>Where the collector listens when no address is configured: the relay proxy's port, on loopback.</summary>
    public const string DefaultUrl = "http://127.0.0.1:1031";

    /// <summary>The command-line option (and configuration key) naming the YAML file.</summary>
    public const string ConfigKey = "config";

    /// <summary>Builds the application; <paramref name="configure"/> runs before the settings are read (tests add configuration there).</summary>
    /// <param name="args">The command line.</param>
    /// <param name="configure">Adds configuration before the settings are read.</param>
    /// <param name="durableBuffer">
    /// Whether to open the durable buffer (<c>bufferDirectory</c>, <c>./buffer</c> unless empty or <c>none</c>); off for
    /// the replay command, which runs beside a collector that holds the buffer and writes dead letters through the
    /// exporters directly.
    /// </param>
    /// <exception cref="CollectorConfigurationException">The configuration is invalid.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, bool durableBuffer = true)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args });

        // Lowest precedence: one line per request at Information is noise for a collector; any source can change it.
        // YARP logs each forwarded request (relayProxyUrl) at Information too, and gRPC each error status it sends (OTLP/gRPC
        // refusals, which OtlpIngestion logs once, or once per episode when there is no room).
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData =
            [
                new("Logging:LogLevel:Microsoft.AspNetCore", "Warning"), new("Logging:LogLevel:Yarp", "Warning"), new("Logging:LogLevel:Grpc", "Warning"),

                // The host logs a failed start at Error with the exception's whole stack; the collector prints that failure
                // as one line ("Cannot start the collector: …") itself. Set it to Debug to see the stack.
                new("Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host", "Critical"),

                // Durable by default: bufferDirectory (or FlagExport:BufferDirectory) "" or none, from any source, is memory mode.
                new($"{FlagExportBuilder.SectionName}:{nameof(DurableBufferOptions.BufferDirectory)}", BufferFolder.DefaultDirectory),
            ],
        });
        List<string> unknownKeys = AddYamlFile(builder.Configuration);

        // The slim builder fixes the console formatter to "simple" after the configuration is read; the configured
        // Logging:Console:FormatterName (json, simple or systemd), from any source including the YAML file, wins here.
        ConfigurationManager loggingConfiguration = builder.Configuration;
        _ = builder.Services.PostConfigure<ConsoleLoggerOptions>(options =>
        {
            if (loggingConfiguration["Logging:Console:FormatterName"] is { Length: > 0 } formatter)
            {
                options.FormatterName = formatter;
            }
        });
        configure?.Invoke(builder);

        // Every problem at once: unknown YAML keys, the collector's own settings, and (once the services are built) the
        // library's verdict on each exporter's options.
        List<string> errors = unknownKeys;
        CollectorSettings settings = CollectorSettings.Read(builder.Configuration, errors);

        // Lowest but the defaults: a FlagExport: key set in any source wins over its relay-proxy alias.
        builder.Configuration.Sources.Insert(1, new MemoryConfigurationSource { InitialData = settings.Aliases.Values });

        // --urls, ASPNETCORE_URLS and Kestrel endpoints first; then the relay proxy's server keys, above
        // ASPNETCORE_HTTP_PORTS (which .NET container images set to 8080 for every application); then the default.
        if (!HasExplicitAddress(builder.Configuration))
        {
            if (settings.ListenUrls is { } relayProxyAddress)
            {
                if (settings.UnixSocketPath is { } socket && errors.Count == 0 && UnixSocketFile.Prepare(socket) is { } problem)
                {
                    errors.Add(problem);
                }

                _ = builder.WebHost.UseUrls(relayProxyAddress);
            }
            else if (!HasPortsSetting(builder.Configuration))
            {
                _ = builder.WebHost.UseUrls(DefaultUrl);
            }
        }

        // After the main address is settled: the gRPC listeners keep it (see OtlpGrpcListeners).
        OtlpGrpcReceiver.AddServices(builder, settings);

        IServiceCollection services = builder.Services;
        _ = services.AddSingleton(settings);
        _ = services.AddSingleton(new ApiKeyValidator(settings.ApiKeys, settings.AdminKeys));
        // One index for the process: the durable buffer recovers keys into it (ExporterPipelines finds it here).
        _ = services.AddSingleton(sp => new IdempotencyKeys(settings.IdempotencyKeyRetention, settings.MaxIdempotencyKeys, sp.GetRequiredService<TimeProvider>()));
        _ = services.AddSingleton<CollectorMetrics>();
        _ = services.AddSingleton<CollectEndpoint>();
        _ = services.AddSingleton<OtlpIngestion>();
        _ = services.AddSingleton<OtlpHttpEndpoint>();
        _ = services.AddRequestDecompression();
        RelayProxyRoutes.AddServices(services, settings);
        // Before AddFlagExport: hosted services start in order, so an unusable folder stops start-up before any pipeline runs.
        _ = services.AddHostedService<OutputFolderStartupCheck>();
        _ = services.AddFlagExport(export =>
        {
            foreach (ExporterSpec exporter in settings.Exporters)
            {
                exporter.Register(export);
            }
        });
        if (!durableBuffer)
        {
            // After the library's own binding of FlagExport:BufferDirectory (registered by AddFlagExport).
            _ = services.PostConfigure<DurableBufferOptions>(o => o.BufferDirectory = null);
        }

        _ = services.AddHealthChecks().AddFlagExport(ReadinessEndpoint.CheckName);

        // The host's default shutdown budget (30 s) equals the pipelines' default ShutdownTimeout, and Kestrel spends
        // part of it draining requests first: the final flush would be cut short. Give it every pipeline's full budget.
        _ = services.AddOptions<HostOptions>().PostConfigure<IOptionsMonitor<DataExporterOptions>>((host, pipelines) =>
        {
            foreach (ExporterSpec exporter in settings.Exporters)
            {
                TimeSpan needed;
                try
                {
                    needed = pipelines.Get(exporter.Name).ShutdownTimeout + ShutdownMargin;
                }
                catch (OptionsValidationException)
                {
                    continue; // invalid options are reported with their key when the host starts (ValidateOnStart)
                }

                if (needed > host.ShutdownTimeout)
                {
                    host.ShutdownTimeout = needed;
                }
            }
        });
        _ = services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter("FlagExport", CollectorMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections")
            .AddPrometheusExporter());

        WebApplication app = builder.Build();
        errors.AddRange(OptionFailures(app.Services).Select(f => settings.Aliases.Rename(f, app.Configuration)).Distinct(StringComparer.Ordinal));
        if (errors.Count > 0)
        {
            ((IDisposable)app).Dispose();
            throw new CollectorConfigurationException(errors);
        }

        DateTimeOffset startedAt = DateTimeOffset.UtcNow;
        InfoResponse info = CreateInfo(settings, app.Services, startedAt);

        // gzip, br and deflate bodies are decompressed on the fly; the size limit applies to the decompressed bytes.
        // Requests forwarded to the relay proxy keep their bytes and their Content-Encoding.
        _ = app.UseWhen(context => !RelayProxyRoutes.IsForwarded(context), branch => branch.UseRequestDecompression());
        _ = app.MapPost(CollectEndpoint.Path, context => context.RequestServices.GetRequiredService<CollectEndpoint>().HandleAsync(context))
            .WithMetadata(new RequestSizeLimit(settings.MaxRequestBodySize));
        _ = app.MapPost(OtlpHttpEndpoint.LogsPath, context => context.RequestServices.GetRequiredService<OtlpHttpEndpoint>().HandleAsync(context, OtlpSignal.Logs))
            .WithMetadata(new RequestSizeLimit(settings.MaxRequestBodySize));
        _ = app.MapPost(OtlpHttpEndpoint.TracesPath, context => context.RequestServices.GetRequiredService<OtlpHttpEndpoint>().HandleAsync(context, OtlpSignal.Traces))
            .WithMetadata(new RequestSizeLimit(settings.MaxRequestBodySize));
        _ = app.MapGet("/health", context =>
            context.Response.WriteAsJsonAsync(new HealthResponse(Initialized: true), CollectorJsonContext.Answers.HealthResponse));
        ReadinessEndpoint.Map(app);
        _ = app.MapGet("/info", context => context.Response.WriteAsJsonAsync(info, CollectorJsonContext.Answers.InfoResponse));
        _ = app.MapPrometheusScrapingEndpoint("/metrics");
        RelayProxyRoutes.Map(app, settings);
        OtlpGrpcReceiver.Map(app, settings);

        _ = app.Lifetime.ApplicationStarted.Register(() => LogStarted(app, settings));
        return app;
    }

    /// <summary>
    /// Runs the validation the host runs when it starts (every <c>ValidateOnStart</c> options type: the exporters', the
    /// pipelines', the durable buffer's) and returns every failure; nothing is started.
    /// </summary>
    private static IEnumerable<string> OptionFailures(IServiceProvider services)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return [];
        }
        catch (OptionsValidationException exception)
        {
            return exception.Failures;
        }
        catch (AggregateException exception) when (exception.InnerExceptions.All(e => e is OptionsValidationException))
        {
            return exception.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures);
        }
    }

    /// <summary>Time the host keeps, beyond the longest pipeline ShutdownTimeout, for Kestrel's drain and the rest.</summary>
    internal static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(15);

    /// <summary>The top-level YAML keys the collector reads (besides FlagExport, Logging and Kestrel settings).</summary>
    private static readonly string[] CollectorYamlKeys =
        ["apiKeys", "authorizedKeys", "webhookSecret", "maxRequestBodySize", "maxRequestExpandedBytes", "exporter", "exporters", "server", "listen", .. RelayProxyAliases.TopLevelKeys, CollectorSettings.RelayProxyUrlKey, OtlpGrpcAddress.Key, CollectorSettings.IdempotencyKeyRetentionKey, CollectorSettings.MaxIdempotencyKeysKey, "FlagExport", "Logging", "Kestrel", "urls"];

    /// <summary>
    /// Every top-level key the YAML file accepts (read or ignored); the command line takes them as <c>--key value</c> too.
    /// </summary>
    internal static IEnumerable<string> TopLevelKeys => CollectorYamlKeys.Concat(RelayProxyKeysIgnored);

    /// <summary>go-feature-flag relay proxy keys that configure what a collector does not do (flags, notifiers, server).</summary>
    private static readonly HashSet<string> RelayProxyKeysIgnored = new(StringComparer.OrdinalIgnoreCase)
    {
        "retriever", "retrievers", "notifier", "notifiers", "host", "pollingInterval", "swagger",
        "enablePollingJitter", "fileFormat", "startWithRetrieverError", "logLevel", "logFormat", "debug", "enableSwagger",
        "hideBanner", "monitoringPort", "openTelemetryOtlpEndpoint", "otel", "persistentFlagConfigurationFile",
        "startAsAwsLambda", "awsLambdaAdapter", "awsApiGatewayBasePath", "enablePprof", "exporterCleanQueueInterval",
        "disableVersionHeader", "jaeger", "enableBulkMetricFlagNames",
        "disableNotifierOnInit", "evaluationContextEnrichment", "envVariablePrefix", "flagSets", "restApiTimeout", "version",
    };

    /// <summary>The relay proxy's <c>server</c> keys: the collector reads mode, host, port and unixSocketPath, warns about monitoringPort.</summary>
    private static readonly HashSet<string> RelayProxyServerKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "mode", "host", "port", "unixSocketPath", "monitoringPort", "awsLambdaAdapter", "awsApiGatewayBasePath",
    };

    /// <summary>
    /// Adds the YAML file named by <c>--config</c>, above appsettings.json and below environment variables; returns the
    /// unknown keys it has, one line each, for the caller to report with the other problems.
    /// </summary>
    private static List<string> AddYamlFile(ConfigurationManager configuration)
    {
        string? path = configuration[ConfigKey];
        if (path is null)
        {
            return [];
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            throw new CollectorConfigurationException("--config: give the path of a YAML file.");
        }

        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new CollectorConfigurationException($"--config: the file '{fullPath}' does not exist.");
        }

        var yaml = new ConfigurationBuilder().AddYamlFile(fullPath, optional: false, reloadOnChange: false);
        IConfigurationSource source = yaml.Sources[0];
        IList<IConfigurationSource> sources = configuration.Sources;
        int last = -1;
        for (int i = 0; i < sources.Count; i++)
        {
            if (sources[i] is FileConfigurationSource)
            {
                last = i;
            }
        }

        try
        {
            sources.Insert(last + 1, source);
        }
        catch (Exception exception) when (exception is FormatException or InvalidDataException or YamlDotNet.Core.YamlException)
        {
            throw new CollectorConfigurationException($"--config: '{fullPath}' is not valid YAML: {exception.Message}", exception);
        }

        return UnknownYamlKeys(yaml.Build(), fullPath);
    }

    /// <summary>
    /// Lists each YAML key the collector does not know, so that a typo (<c>apiKey:</c>) fails instead of silently turning
    /// authentication off. The relay proxy's own keys that a collector has no use for are accepted and ignored.
    /// </summary>
    private static List<string> UnknownYamlKeys(IConfiguration yaml, string path)
    {
        var errors = new List<string>();
        foreach (IConfigurationSection section in yaml.GetChildren())
        {
            if (!CollectorYamlKeys.Contains(section.Key) && !RelayProxyKeysIgnored.Contains(section.Key))
            {
                errors.Add($"{section.Key}: unknown key in '{path}'; the collector reads {string.Join(", ", CollectorYamlKeys)}.");
            }
        }

        foreach (IConfigurationSection section in yaml.GetSection("server").GetChildren())
        {
            if (!RelayProxyServerKeys.Contains(section.Key))
            {
                errors.Add($"server.{section.Key}: unknown key in '{path}'; server has {string.Join(", ", RelayProxyServerKeys)}.");
            }
        }

        foreach (IConfigurationSection section in yaml.GetSection("authorizedKeys").GetChildren())
        {
            if (section.Key is not ("evaluation" or "admin"))
            {
                errors.Add($"authorizedKeys.{section.Key}: unknown key in '{path}'; authorizedKeys has evaluation and admin.");
            }
        }

        return errors;
    }

    /// <summary><see langword="true"/> when <c>--urls</c>, <c>ASPNETCORE_URLS</c> or Kestrel endpoints are set.</summary>
    private static bool HasExplicitAddress(ConfigurationManager configuration) =>
        !string.IsNullOrEmpty(configuration["urls"]) || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();

    /// <summary><see langword="true"/> when <c>ASPNETCORE_HTTP_PORTS</c> or <c>ASPNETCORE_HTTPS_PORTS</c> (or their keys) are set.</summary>
    private static bool HasPortsSetting(ConfigurationManager configuration) =>
        !string.IsNullOrEmpty(configuration["http_ports"]) || !string.IsNullOrEmpty(configuration["https_ports"]);

    private static InfoResponse CreateInfo(CollectorSettings settings, IServiceProvider services, DateTimeOffset startedAt) => new(
        Name: "FlagExport.Collector",
        Version: VersionOf(typeof(CollectorApp).Assembly),
        FlagExportVersion: VersionOf(typeof(IFlagEventSink).Assembly),
        StartedAt: startedAt,
        Exporters: [.. settings.Exporters.Select(e => new InfoExporter(e.Name, e.Kind, e.Format(services), e.EventTypeName(services)))]);

    /// <summary>The informational version of <paramref name="assembly"/> (what <c>/info</c> and <c>--version</c> report).</summary>
    internal static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? assembly.GetName().Version?.ToString()
        ?? "unknown";

    private static void LogStarted(WebApplication app, CollectorSettings settings)
    {
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CollectorApp).FullName!);
        ICollection<string>? addresses = app.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (settings.MonitoringPortIgnored)
        {
            logger.MonitoringPortIgnored();
        }

        if (!logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        IReadOnlyList<string> grpcAddresses = app.Services.GetService<OtlpGrpcListeners>()?.Addresses ?? [];
        string[] mainAddresses = [.. (addresses ?? []).Except(grpcAddresses, StringComparer.OrdinalIgnoreCase)];
        logger.Listening(mainAddresses.Length > 0 ? string.Join(", ", mainAddresses) : "(in-process test server)");
        foreach (string grpcAddress in grpcAddresses)
        {
            logger.OtlpGrpcListening(grpcAddress);
        }

        BufferFolder buffer = BufferFolder.Of(app.Services);
        if (buffer.FullPath is { } folder)
        {
            logger.DurableBuffer(folder, buffer.MaxBytes);
        }
        else
        {
            logger.MemoryBuffer();
        }

        foreach (ExporterSpec exporter in settings.Exporters)
        {
            logger.ExporterConfigured(exporter.Describe(app.Services));
        }

        if (settings.ApiKeys.Count > 0)
        {
            logger.ApiKeysRequired(settings.ApiKeys.Count);
        }
    }
}

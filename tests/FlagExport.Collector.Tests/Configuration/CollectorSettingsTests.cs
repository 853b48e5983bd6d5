using FlagExport.AzureBlob;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;
using FlagExport.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Tests.Configuration;

/// <summary>The relay proxy's YAML keys mapped onto FlagExport exporters, and every invalid setting named by its key.</summary>
public sealed class CollectorSettingsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Yaml_RelayProxyKeys_MapOntoFileExporters()
    {
        await using WebApplication app = Build("""
            apiKeys:
              - key-a
            authorizedKeys:
              evaluation:
                - key-b
            maxRequestBodySize: 1048576
            maxRequestExpandedBytes: 2097152
            idempotencyKeyRetention: "06:00:00"
            maxIdempotencyKeys: 5000
            exporters:
              - kind: file
                name: exporter-0
                outputDir: /var/flags
                format: csv
                filename: "flags-{{ .UUID}}.{{ .Format}}"
                csvTemplate: "{{ .Key}};{{ .Value}}\n"
                parquetCompressionCodec: zstd
                parquetRowGroupSize: 5000
                maxBatchBytes: 262144
                flushInterval: 500
                maxEventInMemory: 2000
                eventType: feature
              - kind: FILE
                name: exporter-1
                format: parquet
                eventType: tracking
            """);
        CollectorSettings settings = app.Services.GetRequiredService<CollectorSettings>();

        Assert.Equal(["key-a", "key-b"], settings.ApiKeys);
        Assert.Equal(1_048_576, settings.MaxRequestBodySize);
        Assert.Equal(2_097_152, settings.MaxRequestExpandedBytes);
        Assert.Equal(TimeSpan.FromHours(6), settings.IdempotencyKeyRetention);
        Assert.Equal(5000, settings.MaxIdempotencyKeys);
        Assert.False(settings.UsesDefaultExporter);
        Assert.Equal(["exporter-0", "exporter-1"], settings.Exporters.Select(e => e.Name));
        Assert.All(settings.Exporters, e => Assert.IsType<FileExporterSpec>(e));
        FileExporterOptions first = FileOptions(app, "exporter-0");
        Assert.Equal("/var/flags", first.OutputDir);
        Assert.Equal("csv", first.Format);
        Assert.Equal("flags-{{ .UUID}}.{{ .Format}}", first.Filename);
        Assert.Equal("{{ .Key}};{{ .Value}}\n", first.CsvTemplate);
        Assert.Equal("zstd", first.ParquetCompressionCodec);
        Assert.Equal(5000, first.ParquetRowGroupSize);
        Assert.Equal(262_144, first.MaxBatchBytes);
        DataExporterOptions firstPipeline = Pipeline(app, "exporter-0");
        Assert.Equal(TimeSpan.FromMilliseconds(500), firstPipeline.FlushInterval);
        Assert.Equal(2000, firstPipeline.MaxEventInMemory);
        Assert.Equal(EventType.Feature, firstPipeline.EventType);

        FileExporterOptions second = FileOptions(app, "exporter-1");
        Assert.Equal(FileExporterOptions.DefaultOutputDir, second.OutputDir);
        Assert.Equal(CollectorSettings.DefaultFilename, second.Filename);
        DataExporterOptions secondPipeline = Pipeline(app, "exporter-1");
        Assert.Equal(EventType.Tracking, secondPipeline.EventType);
        Assert.Equal(DataExporterOptions.DefaultFlushInterval, secondPipeline.FlushInterval);
    }

    [Fact]
    public async Task Yaml_AFeatureAndATrackingExporterToOneFolder_WithoutNames_Start()
    {
        string folder = _directory.Combine("shared");
        await using WebApplication app = Build($$"""
            bufferDirectory: ""
            exporters:
              - kind: file
                outputDir: {{folder}}
              - kind: file
                outputDir: {{folder}}
                eventType: tracking
            """);
        await app.StartAsync(TestContext.Current.CancellationToken);
        CollectorSettings settings = app.Services.GetRequiredService<CollectorSettings>();

        // The feature exporter keeps the name derived from its folder alone, so its buffer cursor and dead letters stay its own.
        Assert.Equal(ExporterNames.Derive("file:" + folder), settings.Exporters[0].Name);
        Assert.Equal(ExporterNames.Derive("file+tracking:" + folder), settings.Exporters[1].Name);
        Assert.StartsWith("file-tracking-", settings.Exporters[1].Name, StringComparison.Ordinal);
        Assert.Equal(EventType.Tracking, Pipeline(app, settings.Exporters[1].Name).EventType);
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Yaml_S3Exporter_TakesTheRelayProxyKeysAndTheS3SettingsInCamelCase()
    {
        await using WebApplication app = Build("""
            exporters:
              - kind: s3
                name: exporter-0
                bucket: my-bucket
                path: flags/dt={{ .Year}}-{{ .Month}}-{{ .Day}}/
                format: parquet
                parquetCompressionCodec: zstd
                filename: "events-{{ .UUID}}.{{ .Format}}"
                flushInterval: 10000
                maxEventInMemory: 50000
                eventType: tracking
                serviceUrl: http://127.0.0.1:7480
                forcePathStyle: true
                region: eu-west-1
                storageClass: STANDARD_IA
                requestChecksumCalculation: WHEN_REQUIRED
                serverSideEncryption: aws:kms
                sseKmsKeyId: alias/flags
                tags:
                  team: growth
                multipartThreshold: 33554432
                multipartPartSize: 16777216
                multipartConcurrency: 8
                verifyBucketOnStart: true
                conditionalWrites: false
              - kind: s3
                name: exporter-1
                bucket: other
                format: csv
                compression: gzip
            """);

        Assert.All(app.Services.GetRequiredService<CollectorSettings>().Exporters, e => Assert.IsType<S3ExporterSpec>(e));
        S3ExporterOptions target = S3Options(app, "exporter-0");
        Assert.Equal("my-bucket", target.Bucket);
        Assert.Equal("flags/dt={{ .Year}}-{{ .Month}}-{{ .Day}}/", target.S3Path);
        Assert.Equal("parquet", target.Format);
        Assert.Equal("zstd", target.ParquetCompressionCodec);
        Assert.Equal("events-{{ .UUID}}.{{ .Format}}", target.Filename);
        Assert.Equal(new Uri("http://127.0.0.1:7480"), target.ServiceUrl);
        Assert.True(target.ForcePathStyle);
        Assert.Equal("eu-west-1", target.Region);
        Assert.Equal("STANDARD_IA", target.StorageClass);
        Assert.Equal("WHEN_REQUIRED", target.RequestChecksumCalculation);
        Assert.Equal("aws:kms", target.ServerSideEncryption);
        Assert.Equal("alias/flags", target.SseKmsKeyId);
        Assert.Equal("growth", target.Tags["team"]);
        Assert.Equal(33_554_432, target.MultipartThreshold);
        Assert.Equal(16_777_216, target.MultipartPartSize);
        Assert.Equal(8, target.MultipartConcurrency);
        Assert.True(target.VerifyBucketOnStart);
        Assert.False(target.ConditionalWrites);
        DataExporterOptions pipeline = Pipeline(app, "exporter-0");
        Assert.Equal(TimeSpan.FromSeconds(10), pipeline.FlushInterval);
        Assert.Equal(50_000, pipeline.MaxEventInMemory);
        Assert.Equal(EventType.Tracking, pipeline.EventType);

        S3ExporterOptions second = S3Options(app, "exporter-1");
        Assert.Equal("gzip", second.Compression);
        Assert.Equal(CollectorSettings.DefaultFilename, second.Filename);
        Assert.Null(second.ServiceUrl);
        Assert.True(second.ConditionalWrites);
        Assert.True(second.VerifyBucketOnStart);
    }

    [Fact]
    public async Task Yaml_AzureBlobStorageExporter_TakesGoFeatureFlagsKeys()
    {
        await using WebApplication app = Build("""
            exporters:
              - kind: azureBlobStorage
                container: flag-events
                accountName: mystorageaccount
                accountKey: a2V5
                path: flags/dt={{ .Year}}-{{ .Month}}-{{ .Day}}/
                format: csv
                csvTemplate: "{{ .Key}};{{ .UserKey}}\n"
                filename: "events-{{ .UUID}}.{{ .Format}}"
                flushInterval: 10000
                maxEventInMemory: 50000
                eventType: tracking
                serviceUrl: http://127.0.0.1:10000/mystorageaccount
                compression: gzip
                verifyContainerOnStart: false
              - kind: azureBlobStorage
                name: second
                container: other
                accountName: mystorageaccount
            """);

        IReadOnlyList<ExporterSpec> exporters = app.Services.GetRequiredService<CollectorSettings>().Exporters;
        Assert.All(exporters, e => Assert.IsType<AzureBlobExporterSpec>(e));
        Assert.Equal(ExporterNames.Derive("azureBlobStorage+tracking:mystorageaccount/flag-events/flags/dt={{ .Year}}-{{ .Month}}-{{ .Day}}"), exporters[0].Name);
        AzureBlobExporterOptions target = app.Services.GetRequiredService<IOptionsMonitor<AzureBlobExporterOptions>>().Get(exporters[0].Name);
        Assert.Equal("flag-events", target.Container);
        Assert.Equal("mystorageaccount", target.AccountName);
        Assert.Equal("a2V5", target.AccountKey);
        Assert.Equal("flags/dt={{ .Year}}-{{ .Month}}-{{ .Day}}/", target.Path);
        Assert.Equal("csv", target.Format);
        Assert.Equal("{{ .Key}};{{ .UserKey}}\n", target.CsvTemplate);
        Assert.Equal("events-{{ .UUID}}.{{ .Format}}", target.Filename);
        Assert.Equal(new Uri("http://127.0.0.1:10000/mystorageaccount"), target.ServiceUrl);
        Assert.Equal("gzip", target.Compression);
        Assert.False(target.VerifyContainerOnStart);
        DataExporterOptions pipeline = Pipeline(app, exporters[0].Name);
        Assert.Equal(TimeSpan.FromSeconds(10), pipeline.FlushInterval);
        Assert.Equal(50_000, pipeline.MaxEventInMemory);
        Assert.Equal(EventType.Tracking, pipeline.EventType);

        AzureBlobExporterOptions second = app.Services.GetRequiredService<IOptionsMonitor<AzureBlobExporterOptions>>().Get("second");
        Assert.Equal(CollectorSettings.DefaultFilename, second.Filename);
        Assert.True(second.VerifyContainerOnStart);
    }

    [Fact]
    public async Task Yaml_EveryLibraryOption_IsAnExporterKey_DurationsInMilliseconds()
    {
        // Options the relay proxy does not have are declared once, in the library's options classes, and read from
        // YAML with the same binder: no list of keys in the collector had to learn them.
        await using WebApplication app = Build("""
            deadLetterDirectory: /var/dead
            maxRetryDuration: 60000
            exporters:
              - kind: file
                name: exporter-0
                exportTimeout: 2500
                shutdownTimeout: 90000
                maxBufferedEvents: 123456
              - kind: file
                name: exporter-1
                deadLetterDirectory: /var/dead-1
                maxRetryDuration: 1000
            """);

        DataExporterOptions first = Pipeline(app, "exporter-0");
        Assert.Equal(TimeSpan.FromMilliseconds(2500), first.ExportTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), first.ShutdownTimeout);
        Assert.Equal(123_456, first.MaxBufferedEvents);
        Assert.Equal("/var/dead", first.DeadLetterDirectory);
        Assert.Equal(TimeSpan.FromMinutes(1), first.MaxRetryDuration);
        DataExporterOptions second = Pipeline(app, "exporter-1");
        Assert.Equal("/var/dead-1", second.DeadLetterDirectory);
        Assert.Equal(TimeSpan.FromSeconds(1), second.MaxRetryDuration);
    }

    [Theory]
    [InlineData("yaml")]
    [InlineData("relay-proxy environment variable")]
    [InlineData("FlagExport key")]
    public void OneOption_ReadFromEverySource_GivesTheLibrarysOwnMessage(string source)
    {
        string yaml = source == "yaml" ? "exporters:\n  - kind: file\n    name: exporter-0\n    format: xml\n" : "exporters:\n  - kind: file\n    name: exporter-0\n";
        Dictionary<string, string?> added = source switch
        {
            "relay-proxy environment variable" => new() { ["exporters:0:format"] = "xml" },
            "FlagExport key" => new() { ["FlagExport:Exporters:exporter-0:Format"] = "xml" },
            _ => [],
        };

        var exception = Assert.Throws<CollectorConfigurationException>(() => CollectorApp.Build(["--config", WriteYaml(yaml)], builder =>
        {
            _ = builder.WebHost.UseTestServer();
            _ = builder.Configuration.AddInMemoryCollection(added);
        }));

        // The message is the library's ("Format 'xml' is not a valid format…"), under the key the user wrote.
        string expected = source == "FlagExport key"
            ? "FlagExport:Exporters:exporter-0:Format 'xml' is not a valid format; valid values are JSON, CSV, Parquet (case-insensitive)."
            : "exporters[0].format: 'xml' is not a valid format; valid values are JSON, CSV, Parquet (case-insensitive).";
        Assert.Equal(expected, Assert.Single(exception.Errors));
    }

    [Fact]
    public async Task FlagExportKey_WinsOverItsRelayProxyAlias()
    {
        await using WebApplication app = CollectorApp.Build(["--config", WriteYaml("exporters:\n  - kind: file\n    name: exporter-0\n    format: csv\n    outputDir: /a\n")], builder =>
        {
            _ = builder.WebHost.UseTestServer();
            _ = builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["FlagExport:Exporters:exporter-0:OutputDir"] = "/b" });
        });

        FileExporterOptions options = FileOptions(app, "exporter-0");
        Assert.Equal("/b", options.OutputDir);
        Assert.Equal("csv", options.Format);
    }

    [Fact]
    public async Task Yaml_SingleExporterKey_OfTheRelayProxy_IsRead()
    {
        await using WebApplication app = Build("""
            exporter:
              kind: file
              format: csv
            """);

        ExporterSpec file = Assert.Single(app.Services.GetRequiredService<CollectorSettings>().Exporters);
        Assert.Equal("exporter", file.Path);
        Assert.Equal("csv", FileOptions(app, file.Name).Format);
    }

    [Fact]
    public async Task NoExporterConfigured_UsesTheEmbeddedDefault_JsonLinesToExports()
    {
        await using WebApplication app = Build("apiKeys: []\n");
        CollectorSettings settings = app.Services.GetRequiredService<CollectorSettings>();

        Assert.True(settings.UsesDefaultExporter);
        Assert.Empty(settings.ApiKeys);
        Assert.Equal(CollectorSettings.DefaultMaxRequestBodySize, settings.MaxRequestBodySize);
        ExporterSpec file = Assert.Single(settings.Exporters);
        Assert.IsType<FileExporterSpec>(file);
        Assert.Equal(ExporterNames.Derive(ExporterNames.Destination("file", section: null)), file.Name);
        FileExporterOptions options = FileOptions(app, file.Name);
        Assert.Equal("./exports", options.OutputDir);
        Assert.Equal("JSON", options.Format);
        Assert.Equal("flag-variation-{{ .Hostname}}-{{ .Timestamp}}-{{ .UUID}}.{{ .Format}}", options.Filename);
        Assert.Equal(EventType.Feature, Pipeline(app, file.Name).EventType);
    }

    public static TheoryData<string, string> InvalidSettings => new()
    {
        { "exporters:\n  - kind: file\n  - kind: file\n    outputDir: ./other\n    format: xml\n",
          "exporters[1].format: 'xml' is not a valid format; valid values are JSON, CSV, Parquet (case-insensitive)." },
        { "exporters:\n  - kind: kafka\n", "exporters[0].kind: 'kafka' is not a supported exporter kind; valid values are file, s3, azureBlobStorage, webhook." },
        { "exporters:\n  - format: csv\n", "exporters[0].kind: is required; valid values are file, s3, azureBlobStorage, webhook." },
        { "exporters:\n  - kind: azureBlobStorage\n    accountName: acct\n", "exporters[0].container: is required: set it to the name of the blob container to write to." },
        { "exporters:\n  - kind: azureBlobStorage\n    container: events\n", "exporters[0].accountName: is required: set it (or ServiceUrl for an emulator or sovereign cloud), or put a connection string in AZURE_STORAGE_CONNECTION_STRING." },
        { "exporters:\n  - kind: azureBlobStorage\n    container: Events_1\n    accountName: acct\n", "exporters[0].container: 'Events_1' is not a container name" },
        { "exporters:\n  - kind: azureBlobStorage\n    container: events\n    accountName: acct\n    format: parquet\n    compression: zstd\n", "exporters[0].compression: 'zstd' cannot be used with Format 'Parquet'" },
        { "exporters:\n  - kind: file\n    flushInterval: -5\n",
          "exporters[0].flushInterval: must be greater than zero; got '-00:00:00.0050000' (-5 milliseconds as written)." },
        { "exporters:\n  - kind: file\n    flushInterval: 1m\n",
          "exporters[0].flushInterval: must be a whole number of milliseconds, as go-feature-flag writes durations; got '1m'." },
        { "exporters:\n  - kind: file\n    flushInterval: 172800000\n", // two days: the library's bound is one, named here by the YAML key
          "exporters[0].flushInterval: must be at most 1.00:00:00 (written hh:mm:ss); got '2.00:00:00' (172800000 milliseconds as written)." },
        { "exporters:\n  - kind: file\n    maxEventInMemory: 0\n", "exporters[0].maxEventInMemory: must be greater than zero; got '0'." },
        { "exporters:\n  - kind: file\n    maxEventInMemory: 20000000\n", "exporters[0].maxEventInMemory: must be at most 10,000,000; got '20000000'." },
        { "exporters:\n  - kind: file\n    eventType: click\n", "exporters[0].eventType: must be one of Feature, Tracking; got 'click'." },
        { "exporters:\n  - kind: file\n    parquetCompressionCodec: rar\n", "exporters[0].parquetCompressionCodec: 'rar' is not a valid" },
        { "exporters:\n  - kind: file\n    parquetRowGroupSize: 0\n", "exporters[0].parquetRowGroupSize: must be at least 1 (the most rows in one Parquet row group); got '0'." },
        { "exporters:\n  - kind: file\n    maxBatchBytes: 1000\n",
          "exporters[0].maxBatchBytes: must be at least 1024 (1 KiB, the most bytes in one file or object), or unset for no limit; got '1000'." },
        { "exporters:\n  - kind: file\n    csvTemplate: \"{{ .Nope}}\"\n", "exporters[0].csvTemplate: " },
        { "exporters:\n  - kind: file\n    filename: \"a/{{ .UUID}}\"\n", "exporters[0].filename: Invalid Filename at line 1, column 2: a file name cannot contain '/'" },
        { "exporters:\n  - kind: file\n    outputDir: \"\"\n", "exporters[0].outputDir: must name a folder; got ''." },
        { "exporters:\n  - kind: file\n    flushIntervall: 5\n",
          "exporters[0].flushIntervall: is not an option of this exporter; valid options are CsvTemplate, DeadLetterDirectory, EventType, ExportTimeout, Filename, FlushInterval, Format, MaxBatchBytes, MaxBatchEncodedBytes, MaxBufferedEvents, MaxEventInMemory, MaxRetryDuration, OutputDir, ParquetCompressionCodec, ParquetRowGroupSize, ShutdownTimeout." },
        { "exporters:\n  - kind: file\n    secretKey: abc\n",
          "exporters[0].secretKey: is not an option of this exporter; valid options are" },
        { "exporters:\n  - kind: file\n    accessKey: abc\n", "exporters[0].accessKey: is not an option of this exporter" },
        { "exporters:\n  kind: file\n", "exporters: must be a list of exporters; found the key 'kind'." },
        { "apiKeys: my-key\n", "apiKeys: must be a list of keys; got a single value." },
        { "apiKeys:\n  - \"\"\n", "apiKeys[0]: must be a non-empty string." },
        { "exporters:\n  - kind: s3\n    format: csv\n", "exporters[0].bucket: is required: set it to the name of the S3 bucket to write to." },
        { "exporters:\n  - kind: s3\n    bucket: b\n    format: xml\n", "exporters[0].format: 'xml' is not a valid format" },
        { "exporters:\n  - kind: s3\n    bucket: b\n    compression: rar\n", "exporters[0].compression: 'rar' is not valid; valid values are" },
        { "exporters:\n  - kind: s3\n    bucket: b\n    format: parquet\n    compression: gzip\n", "exporters[0].compression: " },
        { "exporters:\n  - kind: s3\n    bucket: b\n    forcePathStyle: yes\n", "exporters[0].forcePathStyle: must be true or false; got 'yes'." },
        { "exporters:\n  - kind: s3\n    bucket: b\n    serviceUrl: 127.0.0.1:7480\n", "exporters[0].serviceUrl: " },
        { "exporters:\n  - kind: s3\n    bucket: b\n    multipartConcurrency: 100\n", "exporters[0].multipartConcurrency: " },
        { "exporters:\n  - kind: s3\n    bucket: b\n    outputDir: ./x\n", "exporters[0].outputDir: is not an option of this exporter; valid options are Bucket, Compression, ConditionalWrites," },
        { "exporters:\n  - kind: s3\n    bucket: b\n    secretAccessKey: abc\n", "exporters[0].secretAccessKey: is not read: credentials never come from the configuration; use the standard AWS sources" },
        { "exporters:\n  - kind: s3\n    bucket: b\n    awsSessionToken: abc\n", "exporters[0].awsSessionToken: is not read: credentials never come from the configuration" },
        { "exporters:\n  - kind: file\n    name: exporter-0\nFlagExport:\n  Exporters:\n    exporter-3:\n      Format: csv\n",
          "FlagExport:Exporters:exporter-3 configures an exporter that is not registered; the exporters are exporter-0." },
        { "exporters:\n  - kind: file\n    name: a b\n", "exporters[0].name: 'a b' is not a valid exporter name; use 1 to 64 letters, digits, '-', '_' or '.'." },
        { "exporters:\n  - kind: file\n    name: \"\"\n", "exporters[0].name: '' is not a valid exporter name" },
        { "exporters:\n  - kind: file\n    name: \"a:b\"\n", "exporters[0].name: 'a:b' is not a valid exporter name" },
        { "exporters:\n  - kind: file\n    name: events\n    outputDir: ./a\n  - kind: s3\n    bucket: b\n    name: Events\n",
          "exporters[1].name: 'Events' is already the name of exporters[0]; each exporter needs its own name." },
        { "exporters:\n  - kind: file\n    outputDir: ./same\n  - kind: file\n    outputDir: ./same/\n    format: csv\n",
          "exporters[1]: writes to the same destination as exporters[0] (file:" },
        { "exporters:\n  - kind: file\n    outputDir: ./same\n    eventType: tracking\n  - kind: file\n    outputDir: ./same/\n    eventType: Tracking\n",
          "exporters[1]: writes to the same destination as exporters[0] (file+tracking:" },
        { "exporters:\n  - kind: s3\n    bucket: b\n    path: p/\n  - kind: s3\n    bucket: b\n    path: /p\n    format: csv\n",
          "exporters[1]: writes to the same destination as exporters[0] (s3:b/p); give each of them a distinct 'name'." },
        { "maxRequestBodySize: 5MB\n", "maxRequestBodySize: must be a number of bytes between 1 and 1073741824 (1 GiB); got '5MB'." },
        { "idempotencyKeyRetention: 48h\n", "idempotencyKeyRetention: must be a duration such as '2.00:00:00' (2 days) or '06:00:00' (6 hours), more than zero and at most 30 days; got '48h'." },
        { "idempotencyKeyRetention: 31.00:00:00\n", "idempotencyKeyRetention: must be a duration such as '2.00:00:00' (2 days) or '06:00:00' (6 hours), more than zero and at most 30 days; got '31.00:00:00'." },
        { "maxIdempotencyKeys: 0\n", "maxIdempotencyKeys: must be a number of keys between 1 and 100000000; got '0'." },
        { "maxRequestExpandedBytes: 0\n", "maxRequestExpandedBytes: must be a number of bytes between 1 and 68719476736 (64 GiB); got '0'." },
        { "maxRequestExpandedBytes: 1GB\n", "maxRequestExpandedBytes: must be a number of bytes between 1 and 68719476736 (64 GiB); got '1GB'." },
        { "server:\n  port: 0\n", "server.port: must be a TCP port between 1 and 65535; got '0'." },
        { "server:\n  port: 70000\n", "server.port: must be a TCP port between 1 and 65535; got '70000'." },
        { "listen: http\n", "listen: must be a TCP port between 1 and 65535; got 'http'." },
        { "server:\n  host: \"bad host\"\n", "server.host: must be an IP address (0.0.0.0 or :: for every interface) or localhost; got 'bad host'." },
        { "server:\n  host: myhost.example\n", "server.host: must be an IP address (0.0.0.0 or :: for every interface) or localhost; got 'myhost.example'." },
        { "server:\n  mode: unixsocket\n", "server.unixSocketPath: must be the absolute path of the socket when server.mode is unixsocket; got ''." },
        { "server:\n  mode: unixsocket\n  unixSocketPath: relative.sock\n",
          "server.unixSocketPath: must be the absolute path of the socket when server.mode is unixsocket; got 'relative.sock'." },
        { "server:\n  mode: lambda\n", "server.mode: 'lambda' is not supported; valid values are http, unixsocket (AWS Lambda is not supported)." },
        { "startAsAwsLambda: true\n", "startAsAwsLambda: AWS Lambda is not supported; the collector runs as an HTTP server." },
        { "bufferDirectory: \"  \"\n", "bufferDirectory: must name a folder; got '  '." },
        { "bufferDirectory: /tmp/b\nmaxBufferBytes: 10GB\n", "maxBufferBytes: must be a whole number; got '10GB'." },
        { "maxBufferBytes: 1000\n", "maxBufferBytes: must be at least 1048576 (1 MiB); got '1000'." },
        { "deadLetterDirectory: \"\"\n", "deadLetterDirectory: must name a folder; got ''." },
        { "maxRetryDuration: 24h\n", "maxRetryDuration: must be a whole number of milliseconds, as go-feature-flag writes durations; got '24h'." },
    };

    public static TheoryData<string, string?> ListenAddresses => new()
    {
        { "apiKeys: []\n", null },
        { "server:\n  port: 8080\n", "http://127.0.0.1:8080" },
        { "listen: 1032\n", "http://127.0.0.1:1032" },
        { "listen: 1032\nserver:\n  port: 8080\n", "http://127.0.0.1:8080" },
        { "server:\n  host: 0.0.0.0\n  port: 8080\n  mode: http\n", "http://0.0.0.0:8080" },
        { "server:\n  host: \"::\"\n", "http://[::]:1031" },
        { "server:\n  host: localhost\n", "http://localhost:1031" },
        { "server:\n  mode: unixsocket\n  unixSocketPath: /run/goff.sock\n  port: 8080\n", "http://unix:/run/goff.sock" },
        { "server:\n  mode: UnixSocket\n  unixSocketPath: /run/goff.sock\n", "http://unix:/run/goff.sock" },
        { "server:\n  unixSocketPath: /run/goff.sock\n", null }, // as in the relay proxy: the path counts in unixsocket mode only
    };

    [Theory]
    [MemberData(nameof(ListenAddresses))]
    public void RelayProxyServerKeys_GiveTheAddressToListenOn(string yaml, string? expected) =>
        Assert.Equal(expected, Read(yaml).ListenUrls);

    [Fact]
    public void MonitoringPort_IsNotAnError_ButIsReportedAsIgnored()
    {
        Assert.True(Read("monitoringPort: 1032\n").MonitoringPortIgnored);
        Assert.True(Read("server:\n  monitoringPort: 1032\n").MonitoringPortIgnored);
        Assert.False(Read("server:\n  port: 1031\n").MonitoringPortIgnored);
    }

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void InvalidSetting_IsRefused_WithAMessageNamingItsKey(string yaml, string expected)
    {
        var exception = Assert.Throws<CollectorConfigurationException>(() => Build(yaml));

        Assert.Contains(exception.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
        Assert.StartsWith("Invalid configuration:" + Environment.NewLine + "  ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryProblem_IsReportedAtOnce()
    {
        var exception = Assert.Throws<CollectorConfigurationException>(() => Build("""
            maxRequestBodySize: -1
            exporters:
              - kind: file
                format: xml
                flushInterval: -1
              - kind: s4
            """));

        Assert.Equal(4, exception.Errors.Count);
    }

    [Fact]
    public void SecretValues_AreNeverEchoed()
    {
        var exception = Assert.Throws<CollectorConfigurationException>(() => Build("""
            exporters:
              - kind: file
                secretKey: wJalrXUtnFEMI
            """));

        Assert.DoesNotContain("wJalrXUtnFEMI", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigOption_ReadsTheYamlFile_AndTheServiceWritesWhatItSays()
    {
        string output = _directory.Combine("out");
        string path = WriteYaml($$$"""
            bufferDirectory: ""
            exporters:
              - kind: file
                outputDir: {{{output}}}
                format: csv
                csvTemplate: "{{ .Key}};{{ .Value}};{{ .Source}}\n"
                filename: "events.{{ .Format}}"
                flushInterval: 3600000
            """);
        await using WebApplication app = CollectorApp.Build(["--config", path], builder =>
        {
            _ = builder.WebHost.UseTestServer();
            _ = builder.Logging.ClearProviders();
        });
        await app.StartAsync(TestContext.Current.CancellationToken);

        HttpResponseMessage response = await app.GetTestClient().PostAsync(
            "/v1/data/collector",
            new StringContent("""{"events":[{"kind":"feature","key":"my-flag","value":"on"}]}""", System.Text.Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        await app.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("my-flag;on;PROVIDER_CACHE\n", await File.ReadAllTextAsync(Path.Combine(output, "events.csv"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void ConfigOption_MisspelledKey_IsRefusedInsteadOfTurningApiKeysOff()
    {
        string path = WriteYaml("""
            apiKey:
              - secret-key
            authorizedKeys:
              evaluaton: [other-key]
            retriever:
              kind: file
            server:
              prot: 8080
            """);

        var exception = Assert.Throws<CollectorConfigurationException>(() => CollectorApp.Build(["--config", path]));

        Assert.Equal(
            [
                $"apiKey: unknown key in '{path}'; the collector reads apiKeys, authorizedKeys, webhookSecret, maxRequestBodySize, maxRequestExpandedBytes, exporter, exporters, server, listen, bufferDirectory, maxBufferBytes, deadLetterDirectory, maxRetryDuration, relayProxyUrl, otlpGrpcUrls, idempotencyKeyRetention, maxIdempotencyKeys, FlagExport, Logging, Kestrel, urls.",
                $"server.prot: unknown key in '{path}'; server has mode, host, port, unixSocketPath, monitoringPort, awsLambdaAdapter, awsApiGatewayBasePath.",
                $"authorizedKeys.evaluaton: unknown key in '{path}'; authorizedKeys has evaluation and admin.",
            ],
            exception.Errors);
    }

    [Fact]
    public async Task HostShutdownTimeout_CoversTheLongestPipelineFlushPlusAMargin()
    {
        string path = WriteYaml("""
            exporters:
              - kind: file
                name: exporter-0
                outputDir: ./unused
            FlagExport:
              Exporters:
                exporter-0:
                  ShutdownTimeout: "00:02:00"
            """);
        await using WebApplication app = CollectorApp.Build(["--config", path], builder => builder.WebHost.UseTestServer());

        TimeSpan timeout = app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;

        Assert.Equal(TimeSpan.FromMinutes(2) + CollectorApp.ShutdownMargin, timeout);
    }

    [Fact]
    public void ConfigOption_MissingFile_IsNamed()
    {
        string path = _directory.Combine("missing.yaml");

        var exception = Assert.Throws<CollectorConfigurationException>(() => CollectorApp.Build(["--config", path]));

        Assert.Equal($"--config: the file '{path}' does not exist.", Assert.Single(exception.Errors));
    }

    [Fact]
    public void ConfigOption_InvalidYaml_IsNamed()
    {
        string path = WriteYaml("exporters:\n  - kind: file\n   format: [csv\n");

        var exception = Assert.Throws<CollectorConfigurationException>(() => CollectorApp.Build(["--config", path]));

        Assert.StartsWith($"--config: '{path}' is not valid YAML: ", Assert.Single(exception.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void FlagExportSection_OverridesAnExporter_AndIsValidatedWithTheOthers()
    {
        var exception = Assert.Throws<CollectorConfigurationException>(() => CollectorApp.Build([], builder =>
        {
            _ = builder.WebHost.UseTestServer();
            _ = builder.Logging.ClearProviders();
            _ = builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["exporters:0:kind"] = "file",
                ["exporters:0:name"] = "exporter-0",
                ["exporters:0:outputDir"] = _directory.Path,
                ["exporters:0:format"] = "xml",
                ["FlagExport:Exporters:exporter-0:ExportTimeout"] = "-00:00:01",
            });
        }));

        Assert.Equal(
            [
                "FlagExport:Exporters:exporter-0:ExportTimeout must be greater than zero; got '-00:00:01'.",
                "exporters[0].format: 'xml' is not a valid format; valid values are JSON, CSV, Parquet (case-insensitive).",
            ],
            exception.Errors);
    }

    /// <summary>Builds the collector from <paramref name="yaml"/> as start-up does (options validated), without listening.</summary>
    private WebApplication Build(string yaml) =>
        CollectorApp.Build(["--config", WriteYaml(yaml)], builder =>
        {
            _ = builder.WebHost.UseTestServer();
            _ = builder.Logging.ClearProviders();
        });

    private static FileExporterOptions FileOptions(WebApplication app, string name) =>
        app.Services.GetRequiredService<IOptionsMonitor<FileExporterOptions>>().Get(name);

    private static S3ExporterOptions S3Options(WebApplication app, string name) =>
        app.Services.GetRequiredService<IOptionsMonitor<S3ExporterOptions>>().Get(name);

    private static DataExporterOptions Pipeline(WebApplication app, string name) =>
        app.Services.GetRequiredService<IOptionsMonitor<DataExporterOptions>>().Get(name);

    private CollectorSettings Read(string yaml) =>
        CollectorSettings.Read(new ConfigurationBuilder().AddYamlFile(WriteYaml(yaml), optional: false, reloadOnChange: false).Build());

    private string WriteYaml(string yaml)
    {
        string path = _directory.Combine(Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}

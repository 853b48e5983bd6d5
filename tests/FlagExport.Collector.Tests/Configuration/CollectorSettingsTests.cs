using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;
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
    public void Yaml_RelayProxyKeys_MapOntoFileExporters()
    {
        CollectorSettings settings = Read("""
            apiKeys:
              - key-a
            authorizedKeys:
              evaluation:
                - key-b
            maxRequestBodySize: 1048576
            exporters:
              - kind: file
                outputDir: /var/flags
                format: csv
                filename: "flags-{{ .UUID}}.{{ .Format}}"
                csvTemplate: "{{ .Key}};{{ .Value}}\n"
                parquetCompressionCodec: zstd
                flushInterval: 500
                maxEventInMemory: 2000
                eventType: feature
              - kind: FILE
                format: parquet
                eventType: tracking
            """);

        Assert.Equal(["key-a", "key-b"], settings.ApiKeys);
        Assert.Equal(1_048_576, settings.MaxRequestBodySize);
        Assert.False(settings.UsesDefaultExporter);
        Assert.Collection(
            settings.Exporters,
            first =>
            {
                var file = Assert.IsType<FileExporterSpec>(first);
                Assert.Equal("exporter-0", file.Name);
                Assert.Equal("/var/flags", file.Options.OutputDir);
                Assert.Equal("csv", file.Options.Format);
                Assert.Equal("flags-{{ .UUID}}.{{ .Format}}", file.Options.Filename);
                Assert.Equal("{{ .Key}};{{ .Value}}\n", file.Options.CsvTemplate);
                Assert.Equal("zstd", file.Options.ParquetCompressionCodec);
                Assert.Equal(new PipelineSettings(TimeSpan.FromMilliseconds(500), 2000, EventType.Feature), file.Pipeline);
            },
            second =>
            {
                var file = Assert.IsType<FileExporterSpec>(second);
                Assert.Equal("exporter-1", file.Name);
                Assert.Equal(FileExporterOptions.DefaultOutputDir, file.Options.OutputDir);
                Assert.Equal(CollectorSettings.DefaultFilename, file.Options.Filename);
                Assert.Equal(new PipelineSettings(null, null, EventType.Tracking), file.Pipeline);
            });
    }

    [Fact]
    public void Yaml_S3Exporter_TakesTheRelayProxyKeysAndTheS3SettingsInCamelCase()
    {
        CollectorSettings settings = Read("""
            exporters:
              - kind: s3
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
                bucket: other
                format: csv
                compression: gzip
            """);

        var s3 = Assert.IsType<S3ExporterSpec>(settings.Exporters[0]);
        var target = new FlagExport.S3.S3ExporterOptions();
        s3.CopyTo(target);
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
        Assert.Equal(new PipelineSettings(TimeSpan.FromSeconds(10), 50_000, EventType.Tracking), s3.Pipeline);

        var second = Assert.IsType<S3ExporterSpec>(settings.Exporters[1]);
        Assert.Equal("gzip", second.Options.Compression);
        Assert.Equal(CollectorSettings.DefaultFilename, second.Options.Filename);
        Assert.Null(second.Options.ServiceUrl);
        Assert.True(second.Options.ConditionalWrites);
    }

    [Fact]
    public void Yaml_SingleExporterKey_OfTheRelayProxy_IsRead()
    {
        CollectorSettings settings = Read("""
            exporter:
              kind: file
              format: csv
            """);

        var file = Assert.IsType<FileExporterSpec>(Assert.Single(settings.Exporters));
        Assert.Equal("exporter", file.Path);
        Assert.Equal("csv", file.Options.Format);
    }

    [Fact]
    public void NoExporterConfigured_UsesTheEmbeddedDefault_JsonLinesToExports()
    {
        CollectorSettings settings = Read("apiKeys: []\n");

        Assert.True(settings.UsesDefaultExporter);
        Assert.Empty(settings.ApiKeys);
        Assert.Equal(CollectorSettings.DefaultMaxRequestBodySize, settings.MaxRequestBodySize);
        var file = Assert.IsType<FileExporterSpec>(Assert.Single(settings.Exporters));
        Assert.Equal("exporter-0", file.Name);
        Assert.Equal("./exports", file.Options.OutputDir);
        Assert.Equal("JSON", file.Options.Format);
        Assert.Equal("flag-variation-{{ .Hostname}}-{{ .Timestamp}}-{{ .UUID}}.{{ .Format}}", file.Options.Filename);
        Assert.Equal(EventType.Feature, file.Pipeline.EventType);
    }

    public static TheoryData<string, string> InvalidSettings => new()
    {
        { "exporters:\n  - kind: file\n  - kind: file\n    format: xml\n",
          "exporters[1].format: 'xml' is not a valid format; valid values are JSON, CSV, Parquet (case-insensitive)." },
        { "exporters:\n  - kind: kafka\n", "exporters[0].kind: 'kafka' is not a supported exporter kind; valid values are file, s3." },
        { "exporters:\n  - format: csv\n", "exporters[0].kind: is required; valid values are file, s3." },
        { "exporters:\n  - kind: file\n    flushInterval: -5\n",
          "exporters[0].flushInterval: must be a whole number of milliseconds between 1 and 86400000; got '-5'." },
        { "exporters:\n  - kind: file\n    flushInterval: 1m\n",
          "exporters[0].flushInterval: must be a whole number of milliseconds between 1 and 86400000; got '1m'." },
        { "exporters:\n  - kind: file\n    flushInterval: 172800000\n", // two days: the library's bound is one, named here by the YAML key
          "exporters[0].flushInterval: must be a whole number of milliseconds between 1 and 86400000; got '172800000'." },
        { "exporters:\n  - kind: file\n    maxEventInMemory: 0\n", "exporters[0].maxEventInMemory: must be a whole number between 1 and 10000000; got '0'." },
        { "exporters:\n  - kind: file\n    maxEventInMemory: 20000000\n", "exporters[0].maxEventInMemory: must be a whole number between 1 and 10000000; got '20000000'." },
        { "exporters:\n  - kind: file\n    eventType: click\n", "exporters[0].eventType: 'click' is not a valid event type; valid values are feature, tracking." },
        { "exporters:\n  - kind: file\n    parquetCompressionCodec: rar\n", "exporters[0].parquetCompressionCodec: 'rar' is not a valid" },
        { "exporters:\n  - kind: file\n    csvTemplate: \"{{ .Nope}}\"\n", "exporters[0].csvTemplate: " },
        { "exporters:\n  - kind: file\n    filename: \"a/{{ .UUID}}\"\n", "exporters[0].filename: Invalid filename at line 1, column 2: a file name cannot contain '/'" },
        { "exporters:\n  - kind: file\n    outputDir: \"\"\n", "exporters[0].outputDir: must name a folder; got ''." },
        { "exporters:\n  - kind: file\n    flushIntervall: 5\n",
          "exporters[0].flushIntervall: is not a setting of a 'file' exporter; valid keys are kind, outputDir, format, filename, csvTemplate, parquetCompressionCodec, flushInterval, maxEventInMemory, eventType." },
        { "exporters:\n  - kind: file\n    secretKey: abc\n",
          "exporters[0].secretKey: credentials are never read from the configuration; use the standard AWS sources" },
        { "exporters:\n  - kind: file\n    accessKey: abc\n", "exporters[0].accessKey: credentials are never read from the configuration" },
        { "exporters:\n  kind: file\n", "exporters: must be a list of exporters; found the key 'kind'." },
        { "apiKeys: my-key\n", "apiKeys: must be a list of keys; got a single value." },
        { "apiKeys:\n  - \"\"\n", "apiKeys[0]: must be a non-empty string." },
        { "exporters:\n  - kind: s3\n    format: csv\n", "exporters[0].bucket: is required for kind 's3': the name of the bucket to write to." },
        { "exporters:\n  - kind: s3\n    bucket: b\n    format: xml\n", "exporters[0].format: 'xml' is not a valid format" },
        { "exporters:\n  - kind: s3\n    bucket: b\n    compression: rar\n", "exporters[0].compression: 'rar' is not valid; valid values are" },
        { "exporters:\n  - kind: s3\n    bucket: b\n    format: parquet\n    compression: gzip\n", "exporters[0].compression: " },
        { "exporters:\n  - kind: s3\n    bucket: b\n    forcePathStyle: yes\n", "exporters[0].forcePathStyle: must be true or false; got 'yes'." },
        { "exporters:\n  - kind: s3\n    bucket: b\n    serviceUrl: 127.0.0.1:7480\n", "exporters[0].serviceUrl: " },
        { "exporters:\n  - kind: s3\n    bucket: b\n    multipartConcurrency: 100\n", "exporters[0].multipartConcurrency: " },
        { "exporters:\n  - kind: s3\n    bucket: b\n    outputDir: ./x\n", "exporters[0].outputDir: is not a setting of a 's3' exporter; valid keys are kind, bucket, path," },
        { "exporters:\n  - kind: s3\n    bucket: b\n    secretAccessKey: abc\n", "exporters[0].secretAccessKey: credentials are never read from the configuration" },
        { "exporters:\n  - kind: s3\n    bucket: b\n    awsSessionToken: abc\n", "exporters[0].awsSessionToken: credentials are never read from the configuration" },
        { "maxRequestBodySize: 5MB\n", "maxRequestBodySize: must be a number of bytes between 1 and 1073741824 (1 GiB); got '5MB'." },
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
        { "bufferDirectory: /tmp/b\nmaxBufferBytes: 10GB\n", "maxBufferBytes: must be a number of bytes of at least 1048576 (1 MiB); got '10GB'." },
        { "maxBufferBytes: 1000\n", "maxBufferBytes: must be a number of bytes of at least 1048576 (1 MiB); got '1000'." },
        { "deadLetterDirectory: \"\"\n", "deadLetterDirectory: must name a folder; got ''." },
        { "maxRetryDuration: 24h\n", "maxRetryDuration: must be a whole number of milliseconds between 1 and 4294967294; got '24h'." },
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
        var exception = Assert.Throws<CollectorConfigurationException>(() => Read(yaml));

        Assert.Contains(exception.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
        Assert.StartsWith("Invalid configuration:" + Environment.NewLine + "  ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryProblem_IsReportedAtOnce()
    {
        var exception = Assert.Throws<CollectorConfigurationException>(() => Read("""
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
        var exception = Assert.Throws<CollectorConfigurationException>(() => Read("""
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
                $"apiKey: unknown key in '{path}'; the collector reads apiKeys, authorizedKeys, webhookSecret, maxRequestBodySize, exporter, exporters, server, listen, bufferDirectory, maxBufferBytes, deadLetterDirectory, maxRetryDuration, relayProxyUrl, FlagExport, Logging, Kestrel, urls.",
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
    public async Task FlagExportSection_OverridesAnExporter_AndIsValidatedAtStart()
    {
        await using WebApplication app = CollectorApp.Build([], builder =>
        {
            _ = builder.WebHost.UseTestServer();
            _ = builder.Logging.ClearProviders();
            _ = builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["exporters:0:kind"] = "file",
                ["exporters:0:outputDir"] = _directory.Path,
                ["FlagExport:Exporters:exporter-0:ExportTimeout"] = "-00:00:01",
            });
        });

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("FlagExport:Exporters:exporter-0:ExportTimeout must be greater than zero; got '-00:00:01'.", exception.Failures);
    }

    private CollectorSettings Read(string yaml) =>
        CollectorSettings.Read(new ConfigurationBuilder().AddYamlFile(WriteYaml(yaml), optional: false, reloadOnChange: false).Build());

    private string WriteYaml(string yaml)
    {
        string path = _directory.Combine(Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}

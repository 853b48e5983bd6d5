using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
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
        { "exporters:\n  - kind: kafka\n", "exporters[0].kind: 'kafka' is not a supported exporter kind; valid values are file." },
        { "exporters:\n  - format: csv\n", "exporters[0].kind: is required; valid values are file." },
        { "exporters:\n  - kind: file\n    flushInterval: -5\n",
          "exporters[0].flushInterval: must be a whole number of milliseconds between 1 and 4294967294; got '-5'." },
        { "exporters:\n  - kind: file\n    flushInterval: 1m\n",
          "exporters[0].flushInterval: must be a whole number of milliseconds between 1 and 4294967294; got '1m'." },
        { "exporters:\n  - kind: file\n    maxEventInMemory: 0\n", "exporters[0].maxEventInMemory: must be a whole number greater than zero; got '0'." },
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
        { "maxRequestBodySize: 5MB\n", "maxRequestBodySize: must be a number of bytes between 1 and 1073741824 (1 GiB); got '5MB'." },
    };

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

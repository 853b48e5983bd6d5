using FlagExport.Tests.Exporters;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Hosting;

public sealed class AddFileExporterTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1617970800));
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task StopAsync_WritesWhatWasAddedWithOptionsFromCodeAndConfiguration()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:audit:Format"] = "csv",
            ["FlagExport:Exporters:audit:Filename"] = "audit-{{ .Timestamp}}.{{ .Format}}",
        });
        _ = builder.Services.AddFlagExport(export => export.AddFileExporter("audit", file => file.OutputDir = _folder.Path));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        host.Services.GetRequiredService<IFlagEventSink>().Add(new FeatureEvent
        {
            ContextKind = "anonymousUser", UserKey = "ABCD", CreationDate = 1617970547, Key = "random-key",
            Variation = "Default", Value = "YO", Source = "SERVER",
        });
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["audit-1617970800.csv"], _folder.FileNames());
        Assert.Equal(
            "feature;anonymousUser;ABCD;1617970547;random-key;Default;YO;false;SERVER\n",
            await File.ReadAllTextAsync(Path.Combine(_folder.Path, "audit-1617970800.csv"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task FlushAsync_SeveralFileExporters_EachWritesItsOwnFormat()
    {
        HostApplicationBuilder builder = CreateBuilder([]);
        _ = builder.Services.AddFlagExport(export => export
            .AddFileExporter("json", file => file.OutputDir = _folder.Path)
            .AddFileExporter("parquet", file => { file.OutputDir = _folder.Path; file.Format = "Parquet"; })
            .AddFileExporter("tracking", file => { file.OutputDir = _folder.Path; file.Format = "CSV"; }, pipeline => pipeline.EventType = EventType.Tracking));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();

        sink.Add(new FeatureEvent { UserKey = "u", Key = "k", Value = true });
        sink.Add(new TrackingEvent { UserKey = "u", Key = "checkout" });
        await sink.FlushAsync(TestContext.Current.CancellationToken);

        string machine = Environment.MachineName;
        Assert.Equal(
            [$"flag-variation-{machine}-1617970800.csv", $"flag-variation-{machine}-1617970800.json", $"flag-variation-{machine}-1617970800.parquet"],
            _folder.FileNames());
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData("Format", "xml", "FlagExport:Exporters:file:Format 'xml' is not a valid format; valid values are JSON, CSV, Parquet (case-insensitive).")]
    [InlineData("ParquetCompressionCodec", "lzma", "FlagExport:Exporters:file:ParquetCompressionCodec 'lzma'")]
    [InlineData("CsvTemplate", "{{ .Nope}}", "FlagExport:Exporters:file:CsvTemplate: Invalid CsvTemplate at line 1, column 4: unknown field '.Nope'")]
    [InlineData("Filename", "{{ range .Format}}", "FlagExport:Exporters:file:Filename: Invalid Filename")]
    [InlineData("OutputDir", "", "FlagExport:Exporters:file:OutputDir must name a folder; got ''.")]
    [InlineData("Fromat", "csv", "FlagExport:Exporters:file:Fromat is not an option of this exporter; valid options are CsvTemplate, DeadLetterDirectory, EventType, ExportTimeout, Filename, FlushInterval, Format, MaxBatchBytes, MaxBatchEncodedBytes, MaxBufferedEvents, MaxEventInMemory, MaxRetryDuration, OutputDir, ParquetCompressionCodec, ParquetRowGroupSize, ShutdownTimeout.")]
    public async Task StartAsync_BadFileOption_FailsNamingTheKeyAndValue(string key, string value, string expectedStart)
    {
        HostApplicationBuilder builder = CreateBuilder(new() { [$"FlagExport:Exporters:file:{key}"] = value });
        _ = builder.Services.AddFlagExport(export => export.AddFileExporter());
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.StartsWith(expectedStart, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ValuesTheBinderCannotConvert_AreEachNamed_WithTheOtherProblems()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:file:FlushInterval"] = "soon",
            ["FlagExport:Exporters:file:MaxEventInMemory"] = "lots",
            ["FlagExport:Exporters:file:EventType"] = "click",
            ["FlagExport:Exporters:file:Format"] = "xml",
            ["FlagExport:Exporters:file:OutputDir"] = _folder.Path,
        });
        _ = builder.Services.AddFlagExport(export => export.AddFileExporter());
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<AggregateException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        string[] expected =
        [
            "FlagExport:Exporters:file:EventType must be one of Feature, Tracking; got 'click'.",
            "FlagExport:Exporters:file:FlushInterval must be a duration written hh:mm:ss, such as 00:00:10; got 'soon'.",
            "FlagExport:Exporters:file:MaxEventInMemory must be a whole number; got 'lots'.",
            "FlagExport:Exporters:file:Format 'xml' is not a valid format; valid values are JSON, CSV, Parquet (case-insensitive).",
        ];
        Assert.Equal(
            expected.Order(StringComparer.Ordinal),
            error.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task StartAsync_SeveralInvalidFileOptions_AreEachNamed_NotOnlyTheFirst()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:file:Format"] = "xml",
            ["FlagExport:Exporters:file:ParquetCompressionCodec"] = "zip",
            ["FlagExport:Exporters:file:CsvTemplate"] = "{{ .Nope}}\n",
            ["FlagExport:Exporters:file:MaxBatchBytes"] = "10",
            ["FlagExport:Exporters:file:OutputDir"] = _folder.Path,
        });
        _ = builder.Services.AddFlagExport(export => export.AddFileExporter());
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        string[] failures = [.. error.Failures];
        Assert.Equal(4, failures.Length);
        Assert.Contains(failures, f => f.StartsWith("FlagExport:Exporters:file:Format 'xml' is not a valid format", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("FlagExport:Exporters:file:ParquetCompressionCodec 'zip' is not a valid Parquet compression codec", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("FlagExport:Exporters:file:CsvTemplate", StringComparison.Ordinal) && f.Contains("'.Nope'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("FlagExport:Exporters:file:MaxBatchBytes must be at least 1024", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_TrackingExporterWithFeatureOnlyCsvField_Fails()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:file:EventType"] = "Tracking",
            ["FlagExport:Exporters:file:Format"] = "CSV",
            ["FlagExport:Exporters:file:CsvTemplate"] = "{{ .Variation}}\n",
        });
        _ = builder.Services.AddFlagExport(export => export.AddFileExporter());
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("unknown field '.Variation'", error.Message, StringComparison.Ordinal);
    }

    private HostApplicationBuilder CreateBuilder(Dictionary<string, string?> configuration)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Configuration.AddInMemoryCollection(configuration);
        _ = builder.Services.AddSingleton<TimeProvider>(_time);
        return builder;
    }
}

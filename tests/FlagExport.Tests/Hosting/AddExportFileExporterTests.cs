using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlagExport.Tests.Hosting;

/// <summary>
/// The registration an exporter of another kind uses, through its descriptor: the options bound from its section and
/// code, checked with the pipeline's event type, the exporter built from them, and its own word on an unknown key.
/// </summary>
public sealed class AddExportFileExporterTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task StartAsync_BuildsTheExporterFromTheBoundOptions_WithThePipelinesEventType()
    {
        var validated = new List<(string Format, EventType EventType)>();
        var built = new List<(string Format, EventType EventType)>();
        var descriptor = new ExportFileExporterDescriptor<FileExporterOptions, FileExporter>
        {
            BindOptions = static (section, options) => section.Bind(options),
            ValidateOptions = (options, eventType) => validated.Add((options.Format, eventType)),
            ExporterFactory = (_, options, eventType) =>
            {
                built.Add((options.Format, eventType));
                return new FileExporter(options, eventType);
            },
        };
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:custom:Format"] = "csv",
            ["FlagExport:Exporters:custom:EventType"] = "tracking",
        });
        _ = builder.Services.AddFlagExport(export => export.AddExportFileExporter("custom", descriptor, options => options.OutputDir = _folder.Path));
        using IHost host = builder.Build();

        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal([("csv", EventType.Tracking)], validated.Distinct());
        Assert.Equal([("csv", EventType.Tracking)], built);
    }

    [Fact]
    public async Task StartAsync_UnknownKey_IsRefusedWithTheDescriptorsMessage_OrTheUsualOne()
    {
        var descriptor = new ExportFileExporterDescriptor<FileExporterOptions, FileExporter>
        {
            BindOptions = static (section, options) => section.Bind(options),
            ValidateOptions = static (_, _) => { },
            ExporterFactory = static (_, options, eventType) => new FileExporter(options, eventType),
            UnknownKeyMessage = static key => key == "password" ? "is not read: secrets come from the environment." : null,
        };
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FlagExport:Exporters:custom:password"] = "hunter2",
            ["FlagExport:Exporters:custom:Fromat"] = "csv",
            ["FlagExport:Exporters:custom:OutputDir"] = _folder.Path,
        });
        _ = builder.Services.AddFlagExport(export => export.AddExportFileExporter("custom", descriptor));
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        string[] failures = [.. error.Failures.Order(StringComparer.Ordinal)];
        Assert.Equal(2, failures.Length);
        Assert.StartsWith("FlagExport:Exporters:custom:Fromat is not an option of this exporter; valid options are ", failures[0], StringComparison.Ordinal);
        Assert.Equal("FlagExport:Exporters:custom:password is not read: secrets come from the environment.", failures[1]);
    }

    [Fact]
    public void AddExportFileExporter_DescriptorWithoutARequiredDelegate_IsRefusedNamingIt()
    {
        var descriptor = new ExportFileExporterDescriptor<FileExporterOptions, FileExporter>
        {
            BindOptions = static (section, options) => section.Bind(options),
            ValidateOptions = null!,
            ExporterFactory = static (_, options, eventType) => new FileExporter(options, eventType),
        };

        var error = Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddFlagExport(export => export.AddExportFileExporter("custom", descriptor)));

        Assert.Equal("descriptor.ValidateOptions", error.ParamName);
    }

    private static HostApplicationBuilder CreateBuilder(Dictionary<string, string?> configuration)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Configuration.AddInMemoryCollection(configuration);
        return builder;
    }
}

using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Hosting;

public sealed class AddFlagExportTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task StopAsync_FlushesEveryPipelineAndEachReceivesOnlyItsEventType()
    {
        var features = new InMemoryExporter();
        var tracking = new InMemoryExporter();
        HostApplicationBuilder builder = CreateBuilder();
        _ = builder.Services.AddFlagExport()
            .AddExporter("features", _ => features)
            .AddExporter("tracking", _ => tracking, o => o.EventType = EventType.Tracking);
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();

        Assert.True(sink.Add(TestEvents.Feature(1)));
        Assert.True(sink.Add(TestEvents.Tracking(2)));
        Assert.True(sink.Add(TestEvents.Feature(3)));
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal([1L, 3], features.Ids);
        Assert.Equal([2L], tracking.Ids);
        Assert.False(sink.Add(TestEvents.Feature(4)));
    }

    [Fact]
    public async Task StopAsync_HostTokenCancelled_StopsAtOnceAndReportsWhatWasNotWritten()
    {
        var exporter = new AlwaysFailingExporter();
        HostApplicationBuilder builder = CreateBuilder();
        _ = builder.Services.AddFlagExport().AddExporter("down", _ => exporter, o => o.ShutdownTimeout = TimeSpan.FromHours(1));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        _ = host.Services.GetRequiredService<IFlagEventSink>().Add(TestEvents.Feature(1));
        _ = host.Services.GetRequiredService<IFlagEventSink>().Add(TestEvents.Feature(2));

        using var hostGivesUp = new CancellationTokenSource();
        await hostGivesUp.CancelAsync();
        await host.StopAsync(hostGivesUp.Token);

        Assert.Equal(2, host.Services.GetRequiredService<ExporterPipelines>().Pipelines[0].NotWrittenCount);
    }

    [Fact]
    public async Task FlushAsync_FansOutToEveryPipelineOfTheEventType()
    {
        var first = new InMemoryExporter();
        var second = new InMemoryExporter();
        HostApplicationBuilder builder = CreateBuilder();
        _ = builder.Services.AddFlagExport(b => b.AddExporter("first", _ => first).AddExporter("second", _ => second));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();

        _ = sink.Add(TestEvents.Feature(7));
        await sink.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal([7L], first.Ids);
        Assert.Equal([7L], second.Ids);
        Assert.False(sink.Add(TestEvents.Tracking(8))); // no pipeline takes tracking events
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Options_AreBoundFromTheExportersConfigurationSectionOverCode()
    {
        HostApplicationBuilder builder = CreateBuilder();
        _ = builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FlagExport:Exporters:file:FlushInterval"] = "00:00:05",
            ["FlagExport:Exporters:file:MaxEventInMemory"] = "42",
            ["FlagExport:Exporters:file:MaxBufferedEvents"] = "420",
            ["FlagExport:Exporters:file:EventType"] = "Tracking",
            ["FlagExport:Exporters:file:ShutdownTimeout"] = "00:00:07",
            ["FlagExport:Exporters:file:ExportTimeout"] = "00:00:03",
        });
        _ = builder.Services.AddFlagExport().AddExporter("file", _ => new InMemoryExporter(), o =>
        {
            o.MaxEventInMemory = 1; // overridden by configuration
            o.FlushInterval = TimeSpan.FromHours(1);
        });
        using IHost host = builder.Build();

        DataExporterOptions options = host.Services.GetRequiredService<IOptionsMonitor<DataExporterOptions>>().Get("file");

        Assert.Equal(TimeSpan.FromSeconds(5), options.FlushInterval);
        Assert.Equal(42, options.MaxEventInMemory);
        Assert.Equal(420, options.MaxBufferedEvents);
        Assert.Equal(EventType.Tracking, options.EventType);
        Assert.Equal(TimeSpan.FromSeconds(7), options.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.ExportTimeout);
        Assert.Equal("FlagExport:Exporters:file", FlagExportBuilder.GetConfigurationPath("file"));
    }

    [Theory]
    [InlineData("FlushInterval", "00:00:00", "FlagExport:Exporters:file:FlushInterval must be greater than zero; got '00:00:00'.")]
    [InlineData("FlushInterval", "-00:00:05", "FlagExport:Exporters:file:FlushInterval must be greater than zero; got '-00:00:05'.")]
    [InlineData("MaxEventInMemory", "0", "FlagExport:Exporters:file:MaxEventInMemory must be greater than zero; got '0'.")]
    [InlineData("MaxEventInMemory", "-3", "FlagExport:Exporters:file:MaxEventInMemory must be greater than zero; got '-3'.")]
    [InlineData("MaxBufferedEvents", "5", "FlagExport:Exporters:file:MaxBufferedEvents must be at least MaxEventInMemory (100000); got '5'.")]
    [InlineData("MaxBufferedEvents", "0", "FlagExport:Exporters:file:MaxBufferedEvents must be greater than zero; got '0'.")]
    [InlineData("EventType", "7", "FlagExport:Exporters:file:EventType must be one of Feature, Tracking; got '7'.")]
    [InlineData("ShutdownTimeout", "00:00:00", "FlagExport:Exporters:file:ShutdownTimeout must be greater than zero; got '00:00:00'.")]
    [InlineData("ExportTimeout", "-00:00:01", "FlagExport:Exporters:file:ExportTimeout must be greater than zero; got '-00:00:01'.")]
    [InlineData("ExportTimeout", "60.00:00:00", "FlagExport:Exporters:file:ExportTimeout must be at most 49.17:02:47.2940000 (written hh:mm:ss); got '60.00:00:00'.")]
    public async Task StartAsync_InvalidOption_FailsNamingTheOptionAndValue(string option, string value, string expected)
    {
        var exporter = new InMemoryExporter();
        HostApplicationBuilder builder = CreateBuilder();
        _ = builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [$"FlagExport:Exporters:file:{option}"] = value });
        _ = builder.Services.AddFlagExport().AddExporter("file", _ => exporter);
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(expected, error.Failures);
        Assert.Equal(0, exporter.Calls);
    }

    [Fact]
    public async Task StartAsync_UnknownEventTypeName_FailsNamingTheOption()
    {
        HostApplicationBuilder builder = CreateBuilder();
        _ = builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["FlagExport:Exporters:file:EventType"] = "Bogus" });
        _ = builder.Services.AddFlagExport().AddExporter("file", _ => new InMemoryExporter());
        using IHost host = builder.Build();

        // The binder cannot convert the name; that is a validation failure like the others, naming the key, the valid values and the value.
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(["FlagExport:Exporters:file:EventType must be one of Feature, Tracking; got 'Bogus'."], error.Failures);
    }

    [Fact]
    public async Task StartAsync_DurableBufferSizeThatIsNotANumber_FailsNamingTheKeyAndValue()
    {
        HostApplicationBuilder builder = CreateBuilder();
        _ = builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["FlagExport:MaxBufferBytes"] = "10GB" });
        _ = builder.Services.AddFlagExport().AddExporter("file", _ => new InMemoryExporter());
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(["FlagExport:MaxBufferBytes must be a whole number; got '10GB'."], error.Failures);
    }

    [Fact]
    public async Task StartAsync_FlagExportKeysNothingReads_AreRefused()
    {
        HostApplicationBuilder builder = CreateBuilder();
        _ = builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FlagExport:BufferDirectry"] = "/var/buffer",
            ["FlagExport:Exporters:fille:Format"] = "CSV",
            ["FlagExport:Exporters:FILE:FlushInterval"] = "00:00:10", // names are case-insensitive, as configuration keys are
        });
        _ = builder.Services.AddFlagExport().AddExporter("file", _ => new InMemoryExporter());
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(
            [
                "FlagExport:BufferDirectry is not a FlagExport option; valid keys are BufferDirectory, MaxBufferBytes, Exporters.",
                "FlagExport:Exporters:fille configures an exporter that is not registered; the exporters are file.",
            ],
            error.Failures);
    }

    [Fact]
    public void AddExporter_DuplicateName_Throws()
    {
        FlagExportBuilder builder = new ServiceCollection().AddFlagExport().AddExporter("file", _ => new InMemoryExporter());

        ArgumentException error = Assert.Throws<ArgumentException>(() => builder.AddExporter("FILE", _ => new InMemoryExporter()));

        Assert.Contains("'FILE'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddFlagExport_WithoutAHost_WorksFromCodeAlone()
    {
        var exporter = new InMemoryExporter();
        var services = new ServiceCollection();
        _ = services.AddSingleton<TimeProvider>(_time);
        _ = services.AddFlagExport().AddExporter("plain", _ => exporter, o => o.MaxEventInMemory = 2);
        await using ServiceProvider provider = services.BuildServiceProvider();
        IFlagEventSink sink = provider.GetRequiredService<IFlagEventSink>();

        _ = sink.Add(TestEvents.Feature(1));
        await sink.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal([1L], exporter.Ids);
    }

    [Fact]
    public void ServiceProviderDispose_Synchronous_DrainsThePipelines()
    {
        var exporter = new InMemoryExporter();
        var services = new ServiceCollection();
        _ = services.AddSingleton<TimeProvider>(_time);
        _ = services.AddFlagExport().AddExporter("plain", _ => exporter);
        ServiceProvider provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<IFlagEventSink>().Add(TestEvents.Feature(1));

        provider.Dispose();

        Assert.Equal([1L], exporter.Ids);
    }

    private HostApplicationBuilder CreateBuilder()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddSingleton<TimeProvider>(_time);
        return builder;
    }
}

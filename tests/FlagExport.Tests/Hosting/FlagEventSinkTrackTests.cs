using FlagExport.Tests.Exporters;
using FlagExport.Tests.Formats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Hosting;

/// <summary><c>IFlagEventSink.Track</c>: go-feature-flag's tracking call, reaching the tracking exporters only.</summary>
public sealed class FlagEventSinkTrackTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1617970800));
    private readonly TempDirectory _tracking = new();
    private readonly TempDirectory _features = new();

    public void Dispose()
    {
        _tracking.Dispose();
        _features.Dispose();
    }

    [Fact]
    public async Task Track_WritesGoFeatureFlagsTrackingEvent_ToTheTrackingExporterOnly()
    {
        using IHost host = await StartAsync();
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();

        Assert.True(sink.Track("checkout", "user-1", new Dictionary<string, FlagValue> { ["plan"] = "pro", ["admin"] = true },
            new Dictionary<string, FlagValue> { ["amount"] = 12.5 }));
        Assert.True(sink.Track("visit", "anon-7", FlagObject.Create(new Dictionary<string, FlagValue> { ["anonymous"] = true })));
        await sink.FlushAsync(TestContext.Current.CancellationToken);

        // The context gets targetingKey, as go-feature-flag's EvaluationContext.ToMap() adds it; keys in Go's order.
        Assert.Equal(
            """{"kind":"tracking","contextKind":"user","userKey":"user-1","creationDate":1617970800,"key":"checkout","evaluationContext":{"admin":true,"plan":"pro","targetingKey":"user-1"},"trackingEventDetails":{"amount":12.5}}""" + "\n" +
            """{"kind":"tracking","contextKind":"anonymousUser","userKey":"anon-7","creationDate":1617970800,"key":"visit","evaluationContext":{"anonymous":true,"targetingKey":"anon-7"},"trackingEventDetails":null}""" + "\n",
            await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(_tracking.Path)), TestContext.Current.CancellationToken));
        Assert.Empty(Directory.GetFiles(_features.Path));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Track_OpenFeatureShaped_TakesTheTargetingKeyFromTheContext()
    {
        using IHost host = await StartAsync();
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();

        Assert.True(sink.Track("checkout", new Dictionary<string, FlagValue> { ["targetingKey"] = "user-1", ["plan"] = "pro" },
            new Dictionary<string, FlagValue> { ["amount"] = 12.5 }));
        await sink.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(
            """{"kind":"tracking","contextKind":"user","userKey":"user-1","creationDate":1617970800,"key":"checkout","evaluationContext":{"plan":"pro","targetingKey":"user-1"},"trackingEventDetails":{"amount":12.5}}""" + "\n",
            await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(_tracking.Path)), TestContext.Current.CancellationToken));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData(null, "targetingKey: absent")]
    [InlineData("", "targetingKey: )")]
    [InlineData(42, "targetingKey: 42")]
    public async Task Track_OpenFeatureShaped_WithoutATargetingKeyString_SaysSoAndAddsNothing(object? targetingKey, string shown)
    {
        using IHost host = await StartAsync();
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        var context = new Dictionary<string, FlagValue> { ["plan"] = "pro" };
        if (targetingKey is string text)
        {
            context["targetingKey"] = text;
        }
        else if (targetingKey is int number)
        {
            context["targetingKey"] = number;
        }

        ArgumentException error = Assert.Throws<ArgumentException>(() => sink.Track("checkout", context));
        Assert.Equal("context", error.ParamName);
        Assert.Contains(shown, error.Message, StringComparison.Ordinal);
        await sink.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Empty(Directory.GetFiles(_tracking.Path));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Track_ATargetingKeyInTheContext_IsReplacedByTheOneGiven()
    {
        TrackingEvent tracking = TrackingEvent.ForTrack("k", "given", new Dictionary<string, FlagValue> { ["targetingKey"] = "other" }, null, _time);

        Assert.Equal(FlagObject.Create(new Dictionary<string, FlagValue> { ["targetingKey"] = "given" }), tracking.EvaluationContext);
        Assert.Equal("given", tracking.UserKey);
    }

    [Theory]
    [InlineData("\"yes\"")]
    [InlineData("false")]
    [InlineData("1")]
    public void Track_AnonymousThatIsNotTrue_IsAUser(string anonymous)
    {
        var context = new Dictionary<string, FlagValue> { ["anonymous"] = FlagValue.FromJsonElement(System.Text.Json.JsonDocument.Parse(anonymous).RootElement) };

        Assert.Equal("user", TrackingEvent.ForTrack("k", "u", context, null, _time).ContextKind);
    }

    [Fact]
    public async Task Track_WithASharedContext_AllocatesOnlyTheEventAndItsContext()
    {
        using IHost host = await StartAsync();
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        FlagObject context = FlagObject.Create(new Dictionary<string, FlagValue> { ["plan"] = "pro", ["country"] = "FR" });
        FlagObject details = FlagObject.Create(new Dictionary<string, FlagValue> { ["amount"] = 3 });
        const int Calls = 1000;

        long allocated = await ThreadAllocations.LeastOfThreeAsync(() =>
        {
            for (int i = 0; i < Calls; i++)
            {
                _ = sink.Track("checkout", "user-1", context, details);
            }

            return Task.CompletedTask;
        });

        // The event (about 80 bytes), the context object and its three-property array (about 100): no boxing, no sort,
        // no copy of the details.
        Assert.InRange(allocated / Calls, 1, 256);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Track_WithNoTrackingExporter_WarnsOncePerProcessNamingTheFix(bool durable)
    {
        using var buffer = new TempDirectory();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddSingleton<TimeProvider>(_time);
        _ = builder.Logging.AddFakeLogging();
        FlagExportBuilder export = builder.Services.AddFlagExport().AddFileExporter("features", file => file.OutputDir = _features.Path);
        if (durable)
        {
            _ = export.UseDurableBuffer(buffer.Path);
        }

        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();

        Assert.False(sink.Track("checkout", "user-1"));
        Assert.False(sink.Track("checkout", "user-2"));
        await sink.FlushAsync(TestContext.Current.CancellationToken);

        FakeLogRecord warning = Assert.Single(host.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 300);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal("A tracking event was added, but no registered exporter takes that type, so it was not kept; later ones are not logged. "
            + "Register an exporter with EventType = EventType.Tracking (collector YAML: eventType: tracking).", warning.Message);
        Assert.Empty(Directory.GetFiles(_features.Path));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    private async Task<IHost> StartAsync()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddSingleton<TimeProvider>(_time);
        _ = builder.Services.AddFlagExport(export => export
            .AddFileExporter("tracking", file => file.OutputDir = _tracking.Path, pipeline => pipeline.EventType = EventType.Tracking)
            .AddFileExporter("features", file => file.OutputDir = _features.Path));
        IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }
}

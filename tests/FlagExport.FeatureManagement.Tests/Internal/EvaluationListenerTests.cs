using System.Diagnostics;
using FlagExport.FeatureManagement.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace FlagExport.FeatureManagement.Tests.Internal;

/// <summary>
/// The listener on the evaluating thread: it never throws into <c>IsEnabledAsync</c>, costs one event, and is started
/// once whatever the number of <c>AddFlagExport</c> calls.
/// </summary>
public sealed class EvaluationListenerTests
{
    private const long Now = 1733230547;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(Now));

    private const string BetaFlag = """
        { "feature_management": { "feature_flags": [ { "id": "Beta", "enabled": true, "telemetry": { "enabled": true } } ] } }
        """;

    private const string CheckoutFlag = """
        { "feature_management": { "feature_flags": [
          { "id": "Checkout", "enabled": true,
            "variants": [ { "name": "Express", "configuration_value": { "steps": 1 } }, { "name": "Classic", "configuration_value": "classic" } ],
            "allocation": { "user": [ { "variant": "Express", "users": [ "alice" ] } ], "default_when_enabled": "Classic" },
            "telemetry": { "enabled": true, "metadata": { "ETag": "c-3", "AllocationId": "alloc-1" } } }
        ] } }
        """;

    [Fact]
    public async Task ASinkThatThrows_NeverBreaksIsEnabledAsync_AndIsCountedAndLoggedOnceAsAWarning()
    {
        await using FlagsHost host = await FlagsHost.StartAsync(BetaFlag, _time, services => services
            .AddSingleton<IFlagEventSink>(new ThrowingSink())
            .AddFakeLogging()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug)));

        for (int i = 0; i < 3; i++)
        {
            Assert.True(await host.Features.IsEnabledAsync("Beta", TestContext.Current.CancellationToken));
        }

        Assert.Equal(3, ListenerOf(host.Services).Failures);
        FakeLogRecord[] records = [.. host.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == "FlagExport.FeatureManagement")];
        Assert.Equal(
            [(LogLevel.Warning, 301, "EvaluationNotExported"), (LogLevel.Debug, 302, "EvaluationNotExportedAgain"), (LogLevel.Debug, 302, "EvaluationNotExportedAgain")],
            records.Select(r => (r.Level, r.Id.Id, r.Id.Name!)));
        Assert.All(records, r => Assert.IsType<InvalidOperationException>(r.Exception));
        Assert.Equal("A Microsoft.FeatureManagement evaluation could not be exported (3 so far).", records[2].Message);
    }

    [Fact]
    public async Task AMappingThatThrows_NeverBreaksIsEnabledAsync()
    {
        var clock = new StoppableClock(DateTimeOffset.FromUnixTimeSeconds(Now));
        var sink = new RecordingSink();
        await using FlagsHost host = await FlagsHost.StartAsync(BetaFlag, clock, services => services.AddSingleton<IFlagEventSink>(sink));

        Assert.True(await host.Features.IsEnabledAsync("Beta", TestContext.Current.CancellationToken));
        clock.Broken = true; // the mapping reads the time: now it throws
        Assert.True(await host.Features.IsEnabledAsync("Beta", TestContext.Current.CancellationToken));
        clock.Broken = false;
        Assert.True(await host.Features.IsEnabledAsync("Beta", TestContext.Current.CancellationToken));

        Assert.Equal(1, ListenerOf(host.Services).Failures);
        Assert.Equal(2, sink.Events.Count);
    }

    [Fact]
    public async Task AnEventWithoutFeatureName_IsCountedAsAFailure_NotThrown()
    {
        var sink = new RecordingSink();
        await using FlagsHost host = await FlagsHost.StartAsync(BetaFlag, _time, services => services.AddSingleton<IFlagEventSink>(sink));
        using var impostor = new ActivitySource("Microsoft.FeatureManagement");

        using (Activity? activity = impostor.StartActivity("FeatureEvaluation"))
        {
            Assert.NotNull(activity); // the listener samples the source
            _ = activity.AddEvent(new ActivityEvent("FeatureFlag", tags: new ActivityTagsCollection { ["Enabled"] = true }));
        }

        Assert.Equal(1, ListenerOf(host.Services).Failures);
        Assert.Empty(sink.Events);
    }

    [Fact]
    public async Task WithoutAddFlagExportOnTheServices_TheHostDoesNotStart_AndSaysWhatToCall()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFeatureManagement().AddFlagExport();
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("services.AddFlagExport(export => ...)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddFlagExportTwice_StartsOneListener_OneRowPerEvaluation()
    {
        await using FlagsHost host = await FlagsHost.StartAsync(BetaFlag, _time, services => services.AddFeatureManagement().AddFlagExport());

        Assert.True(await host.Features.IsEnabledAsync("Beta", TestContext.Current.CancellationToken));

        Assert.Single(host.Services.GetServices<IHostedService>().OfType<EvaluationExportService>());
        Assert.Single(await host.ExportedLinesAsync());
    }

    [Fact]
    public async Task AnotherDefinitionProvider_ExportsTheVariantNameAsTheValue()
    {
        // Only the configuration provider is known to answer from memory; any other is not called on the evaluating thread.
        await using FlagsHost host = await FlagsHost.StartAsync(CheckoutFlag, _time, services => services
            .AddSingleton<IFeatureDefinitionProvider>(sp => new DelegatingProvider(new ConfigurationFeatureDefinitionProvider(
                sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()))));

        Variant variant = await host.Features.GetVariantAsync("Checkout", new TargetingContext { UserId = "alice" }, TestContext.Current.CancellationToken);

        Assert.Equal("1", variant.Configuration?["steps"]);
        Assert.Equal(
            [$$$"""{"kind":"feature","contextKind":"user","userKey":"alice","creationDate":{{{Now}}},"key":"Checkout","variation":"Express","value":"Express","default":false,"version":"c-3","source":"SERVER","metadata":{"AllocationId":"alloc-1","ETag":"c-3"}}"""],
            await host.ExportedLinesAsync());
    }

    [Fact]
    public async Task AnEvaluation_CostsTheEvaluatingThreadOneEvent_OverWhatMicrosoftFeatureManagementAllocates()
    {
        using var exports = new TempDirectory();
        using IHost host = FlagsHost.Build(CheckoutFlag, exports, _time);
        IVariantFeatureManager features = host.Services.GetRequiredService<IVariantFeatureManager>();
        var alice = new TargetingContext { UserId = "alice" };
        const int Calls = 1000;
        Task Evaluate()
        {
            for (int i = 0; i < Calls; i++)
            {
                ValueTask<Variant> variant = features.GetVariantAsync("Checkout", alice, CancellationToken.None);
                if (!variant.IsCompletedSuccessfully)
                {
                    return variant.AsTask();
                }
            }

            return Task.CompletedTask;
        }

        // The same evaluations with a listener that samples the same way and does nothing: the activity, its event
        // and the tags are Microsoft.FeatureManagement's cost, not ours.
        long baseline;
        using (var silent = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.FeatureManagement",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = _ => { },
        })
        {
            ActivitySource.AddActivityListener(silent);
            await Evaluate();
            baseline = await ThreadAllocations.LeastOfThreeAsync(Evaluate);
        }

        await host.StartAsync(TestContext.Current.CancellationToken);
        await Evaluate(); // first conversion of the variant values and of the metadata
        long exported = await ThreadAllocations.LeastOfThreeAsync(Evaluate);
        long perEvaluation = (exported - baseline) / Calls;


        // The FeatureEvent (120 bytes on x64): the metadata object is shared, the variant value converted once, the
        // tags read without boxing, and Add copies nothing.
        Assert.InRange(perEvaluation, 1, 160);
        Assert.Equal(0, ListenerOf(host.Services).Failures);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    private static EvaluationListener ListenerOf(IServiceProvider services) =>
        services.GetServices<IHostedService>().OfType<EvaluationExportService>().Single().Listener!;

    private sealed class ThrowingSink : IFlagEventSink
    {
        public bool Add(ExportableEvent exportableEvent) => throw new InvalidOperationException("The sink is broken.");

        public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private sealed class RecordingSink : IFlagEventSink
    {
        public List<ExportableEvent> Events { get; } = [];

        public bool Add(ExportableEvent exportableEvent)
        {
            Events.Add(exportableEvent);
            return true;
        }

        public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private sealed class StoppableClock(DateTimeOffset now) : FakeTimeProvider(now)
    {
        public bool Broken { get; set; }

        public override DateTimeOffset GetUtcNow() => Broken ? throw new InvalidOperationException("The clock is broken.") : base.GetUtcNow();
    }

    private sealed class DelegatingProvider(IFeatureDefinitionProvider inner) : IFeatureDefinitionProvider
    {
        public Task<FeatureDefinition> GetFeatureDefinitionAsync(string featureName) => inner.GetFeatureDefinitionAsync(featureName);

        public IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync() => inner.GetAllFeatureDefinitionsAsync();
    }
}

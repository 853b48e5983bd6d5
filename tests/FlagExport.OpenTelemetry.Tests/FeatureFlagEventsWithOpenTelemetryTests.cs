using System.Diagnostics;
using FlagExport.OpenTelemetry.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry.Trace;

namespace FlagExport.OpenTelemetry.Tests;

/// <summary>
/// AddFeatureFlagEvents next to the application's own OpenTelemetry tracing of the same source: the flag events are
/// exported whatever the application samples, and what the application exports is what it would without FlagExport.
/// </summary>
public sealed class FeatureFlagEventsWithOpenTelemetryTests : IDisposable
{
    private static readonly DateTimeOffset EvaluatedAt = DateTimeOffset.FromUnixTimeSeconds(1617970547);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1617970800));
    private readonly TempDirectory _folder = new();
    private readonly List<Activity> _spans = [];
    private readonly string _sourceName = $"FlagExport.OpenTelemetry.Tests.App.{Guid.NewGuid():N}";

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task AppSamplesNothing_ItsExportStaysEmpty_AndTheEvaluationIsExportedAllTheSame()
    {
        using IHost host = await StartAsync(new AlwaysOffSampler());
        using var source = new ActivitySource(_sourceName);

        using (Activity? request = source.StartActivity("GET /"))
        {
            Assert.NotNull(request);
            Assert.False(request.Recorded); // the application's "not sampled" stands, also for the trace context it propagates
            request.AddEvent(Evaluation("dark-mode", "on"));
        }

        await host.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);
        Assert.Empty(AppSpans());
        Assert.Equal(
            ["""{"kind":"feature","contextKind":"user","userKey":"user-7","creationDate":1617970547,"key":"dark-mode","variation":"on","value":true,"default":false,"version":"","source":"SERVER","metadata":{"feature_flag.provider.name":"flagd","feature_flag.result.reason":"targeting_match"}}"""],
            _folder.Lines());
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AppSamplesEverything_ItsSpanKeepsTheEvaluationEvent_AndTheEvaluationIsExported()
    {
        using IHost host = await StartAsync(new AlwaysOnSampler());
        using var source = new ActivitySource(_sourceName);

        using (Activity? request = source.StartActivity("GET /"))
        {
            request!.AddEvent(Evaluation("dark-mode", "on"));
        }

        await host.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);
        Activity span = Assert.Single(AppSpans());
        Assert.True(span.Recorded);
        ActivityEvent evaluation = Assert.Single(span.Events);
        Assert.Equal("feature_flag.evaluation", evaluation.Name);
        Assert.Equal("dark-mode", evaluation.Tags.Single(t => t.Key == "feature_flag.key").Value);
        Assert.Single(_folder.Lines());
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    private static ActivityEvent Evaluation(string key, string variant) => new("feature_flag.evaluation", EvaluatedAt, new ActivityTagsCollection
    {
        ["feature_flag.key"] = key,
        ["feature_flag.result.variant"] = variant,
        ["feature_flag.result.value"] = true,
        ["feature_flag.result.reason"] = "targeting_match",
        ["feature_flag.context.id"] = "user-7",
        ["feature_flag.provider.name"] = "flagd",
    });

    private Activity[] AppSpans()
    {
        lock (_spans)
        {
            return [.. _spans.Where(s => s.Source.Name == _sourceName)];
        }
    }

    private async Task<IHost> StartAsync(Sampler sampler)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddSingleton<TimeProvider>(_time);
        _ = builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing
            .AddSource(_sourceName)
            .SetSampler(sampler)
            .AddInMemoryExporter(_spans));
        _ = builder.Services.AddFlagExport(export => export
            .AddFileExporter("flags", file => file.OutputDir = _folder.Path, pipeline => pipeline.FlushInterval = TimeSpan.FromHours(1))
            .AddFeatureFlagEvents(_sourceName));
        IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }
}

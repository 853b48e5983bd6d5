using System.Diagnostics;
using System.Text.Json;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Formats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Hosting;

/// <summary>
/// OpenTelemetry's feature-flag evaluation events, recorded the way the OpenFeature SDK's TraceEnricherHook records them
/// (an ActivityEvent on the current activity, attributes named as the semantic conventions name them), exported as the
/// JSON lines of a real file exporter.
/// </summary>
public sealed class FeatureFlagEventsTests : IDisposable
{
    private static readonly DateTimeOffset EvaluatedAt = DateTimeOffset.FromUnixTimeSeconds(1617970547).AddMilliseconds(250);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1617970800));
    private readonly TempDirectory _folder = new();

    // A source of its own per test: the listener of a parallel test's host never sees these activities.
    private readonly string _sourceName = $"FlagExport.Tests.Flags.{Guid.NewGuid():N}";

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Evaluation_EveryConventionAttribute_BecomesItsFieldOrMetadata()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);

        using (Activity? request = source.StartActivity("GET /"))
        {
            Assert.NotNull(request);
            request.AddEvent(Evaluation(new()
            {
                ["feature_flag.key"] = "logo-color",
                ["feature_flag.result.variant"] = "red",
                ["feature_flag.result.value"] = "#c05543",
                ["feature_flag.result.reason"] = "targeting_match",
                ["feature_flag.context.id"] = "5157782b-2203-4c80-a857-dbbd5e7761db",
                ["feature_flag.provider.name"] = "Flag Manager",
                ["feature_flag.set.id"] = "proj-1",
                ["feature_flag.version"] = "01ABCDEF",
            }));
        }

        Assert.Equal(
            [
                """{"kind":"feature","contextKind":"user","userKey":"5157782b-2203-4c80-a857-dbbd5e7761db","creationDate":1617970547,"key":"logo-color","variation":"red","value":"#c05543","default":false,"version":"01ABCDEF","source":"SERVER","metadata":{"feature_flag.provider.name":"Flag Manager","feature_flag.result.reason":"targeting_match","feature_flag.set.id":"proj-1"}}""",
            ],
            await ExportedLinesAsync(host));
    }

    [Fact]
    public async Task Evaluation_ErrorWithoutVariantOrContext_IsTheSdkDefaultForAnAnonymousUser()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);

        using (Activity? request = source.StartActivity("GET /"))
        {
            request!.AddEvent(Evaluation(new()
            {
                ["feature_flag.key"] = "new-checkout",
                ["feature_flag.result.value"] = false,
                ["feature_flag.result.reason"] = "error",
                ["error.type"] = "flag_not_found",
                ["feature_flag.error.message"] = "Flag 'new-checkout' not found",
                ["feature_flag.provider.name"] = "flagd",
            }));
        }

        Assert.Equal(
            [
                """{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":1617970547,"key":"new-checkout","variation":"SdkDefault","value":false,"default":true,"version":"","source":"SERVER","metadata":{"error.type":"flag_not_found","feature_flag.error.message":"Flag 'new-checkout' not found","feature_flag.provider.name":"flagd","feature_flag.result.reason":"error"}}""",
            ],
            await ExportedLinesAsync(host));
    }

    [Theory]
    [InlineData("default", true)]
    [InlineData("DEFAULT", true)]
    [InlineData("error", true)]
    [InlineData("static", false)]
    [InlineData("split", false)]
    [InlineData("cached", false)]
    [InlineData("disabled", false)]
    [InlineData("stale", false)]
    [InlineData("unknown", false)]
    public async Task Evaluation_Reason_DefaultAndErrorMeanTheDefaultWasServed(string reason, bool isDefault)
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);

        using (Activity? request = source.StartActivity("GET /"))
        {
            request!.AddEvent(Evaluation(new() { ["feature_flag.key"] = "k", ["feature_flag.result.variant"] = "on", ["feature_flag.result.reason"] = reason }));
        }

        string line = Assert.Single(await ExportedLinesAsync(host));
        using JsonDocument exported = JsonDocument.Parse(line);
        Assert.Equal(isDefault, exported.RootElement.GetProperty("default").GetBoolean());
        Assert.Equal(reason, exported.RootElement.GetProperty("metadata").GetProperty("feature_flag.result.reason").GetString());
    }

    [Fact]
    public async Task Evaluation_ValuesOfEveryKind_AreWrittenAsJsonInTheOrderRecorded()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);
        using JsonDocument config = JsonDocument.Parse("""{"color":"red","sizes":[1,2.5]}""");

        using (Activity? request = source.StartActivity("GET /"))
        {
            request!.AddEvent(Evaluation(new() { ["feature_flag.key"] = "bool", ["feature_flag.result.variant"] = "on", ["feature_flag.result.value"] = true }));
            request.AddEvent(Evaluation(new() { ["feature_flag.key"] = "int", ["feature_flag.result.variant"] = "v", ["feature_flag.result.value"] = 42 }));
            request.AddEvent(Evaluation(new() { ["feature_flag.key"] = "double", ["feature_flag.result.variant"] = "v", ["feature_flag.result.value"] = 0.25 }));
            request.AddEvent(Evaluation(new() { ["feature_flag.key"] = "json", ["feature_flag.result.variant"] = "v", ["feature_flag.result.value"] = config.RootElement.Clone() }));
            request.AddEvent(Evaluation(new() { ["feature_flag.key"] = "array", ["feature_flag.result.variant"] = "v", ["feature_flag.result.value"] = new[] { "a", "b" } }));
            request.AddEvent(new ActivityEvent("exception", EvaluatedAt)); // not an evaluation
        }

        Assert.Equal(
            [
                """{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":1617970547,"key":"bool","variation":"on","value":true,"default":false,"version":"","source":"SERVER"}""",
                """{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":1617970547,"key":"int","variation":"v","value":42,"default":false,"version":"","source":"SERVER"}""",
                """{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":1617970547,"key":"double","variation":"v","value":0.25,"default":false,"version":"","source":"SERVER"}""",
                """{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":1617970547,"key":"json","variation":"v","value":{"color":"red","sizes":[1,2.5]},"default":false,"version":"","source":"SERVER"}""",
                """{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":1617970547,"key":"array","variation":"v","value":["a","b"],"default":false,"version":"","source":"SERVER"}""",
            ],
            await ExportedLinesAsync(host));
    }

    [Fact]
    public async Task LegacyEvent_TheOlderNamesOfTheOpenFeatureHooks_AreReadToo()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);

        using (Activity? request = source.StartActivity("GET /"))
        {
            request!.AddEvent(new ActivityEvent("feature_flag", EvaluatedAt, new ActivityTagsCollection
            {
                ["feature_flag.key"] = "my-bool-flag",
                ["feature_flag.provider_name"] = "NoopProvider",
                ["feature_flag.variant"] = "default-variant",
                ["feature_flag.evaluation.reason"] = "default",
            }));
        }

        Assert.Equal(
            [
                """{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":1617970547,"key":"my-bool-flag","variation":"default-variant","value":null,"default":true,"version":"","source":"SERVER","metadata":{"feature_flag.evaluation.reason":"default","feature_flag.provider_name":"NoopProvider"}}""",
            ],
            await ExportedLinesAsync(host));
    }

    [Fact]
    public async Task Evaluation_CurrentAndOlderNamesBoth_TheCurrentNameWins()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);

        using (Activity? request = source.StartActivity("GET /"))
        {
            request!.AddEvent(Evaluation(new()
            {
                ["feature_flag.key"] = "k",
                ["feature_flag.variant"] = "old",
                ["feature_flag.result.variant"] = "new",
                ["feature_flag.evaluation.reason"] = "default",
                ["feature_flag.result.reason"] = "static",
            }));
        }

        using JsonDocument exported = JsonDocument.Parse(Assert.Single(await ExportedLinesAsync(host)));
        Assert.Equal("new", exported.RootElement.GetProperty("variation").GetString());
        Assert.False(exported.RootElement.GetProperty("default").GetBoolean());
    }

    [Fact]
    public async Task Evaluation_WithoutKey_IsSkipped_AndTheOthersOfTheActivityAreExported()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);

        using (Activity? request = source.StartActivity("GET /"))
        {
            request!.AddEvent(Evaluation(new() { ["feature_flag.result.variant"] = "on" }));
            request.AddEvent(Evaluation(new() { ["feature_flag.key"] = "kept", ["feature_flag.result.variant"] = "on" }));
        }

        string line = Assert.Single(await ExportedLinesAsync(host));
        Assert.Contains("\"key\":\"kept\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluation_IsExportedWhenItsActivityStops_NotWhenRecorded()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);
        Activity request = source.StartActivity("GET /")!;
        request.AddEvent(Evaluation(new() { ["feature_flag.key"] = "k", ["feature_flag.result.variant"] = "on" }));

        Assert.Empty(await ExportedLinesAsync(host));

        request.Stop();
        Assert.Single(await ExportedLinesAsync(host));
    }

    [Fact]
    public async Task Sources_OnlyTheNamedOnesAndTheirPatterns_AreListenedTo()
    {
        string prefix = _sourceName;
        using IHost host = await StartAsync($"{prefix}.Web", $"{prefix}.Jobs.*");
        using var web = new ActivitySource($"{prefix}.Web");
        using var job = new ActivitySource($"{prefix}.jobs.Nightly"); // patterns match case-insensitively, as OpenTelemetry's do
        using var other = new ActivitySource($"{prefix}.Other");

        foreach ((ActivitySource source, string key) in new[] { (web, "web"), (job, "job"), (other, "other") })
        {
            using Activity? activity = source.StartActivity("work");
            activity?.AddEvent(Evaluation(new() { ["feature_flag.key"] = key, ["feature_flag.result.variant"] = "on" }));
        }

        Assert.False(other.HasListeners());
        Assert.Equal(["job", "web"], (await ExportedLinesAsync(host)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("key").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Sampling_AllDataWithoutTheRecordedFlag_SoTheAppsOwnTraceExportIsUnchanged()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);

        Activity? request = source.StartActivity("GET /");

        // Only this listener samples the source: the activity exists and takes its events, but is not marked recorded
        // (a TracerProvider exports only recorded activities, and the trace context tells other services "not sampled").
        Assert.NotNull(request);
        Assert.True(request.IsAllDataRequested);
        Assert.False(request.Recorded);
        request.AddEvent(Evaluation(new() { ["feature_flag.key"] = "k", ["feature_flag.result.variant"] = "on" }));
        request.Stop();
        Assert.Single(await ExportedLinesAsync(host));
    }

    [Fact]
    public async Task Listener_AValueThatThrows_NeverReachesTheApplication_AndIsLoggedOnce()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);

        for (int i = 0; i < 2; i++)
        {
            Activity request = source.StartActivity("GET /")!;
            request.AddEvent(Evaluation(new() { ["feature_flag.key"] = "k", ["feature_flag.result.value"] = new Unprintable() }));
            request.Stop(); // does not throw
        }

        Assert.Empty(await ExportedLinesAsync(host));
        FakeLogRecord failure = Assert.Single(host.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Name == "FeatureFlagEventFailed");
        Assert.Equal(LogLevel.Warning, failure.Level);
        Assert.Contains(_sourceName, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listener_HostStopped_StopsListening()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);
        Assert.True(source.HasListeners());

        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.False(source.HasListeners());
    }

    [Fact]
    public async Task Listener_PerEvaluation_AllocatesOnlyTheEventAndItsMetadata()
    {
        using IHost host = await StartAsync();
        using var source = new ActivitySource(_sourceName);
        const int Calls = 1000;
        var stopped = new Queue<Activity>();
        for (int i = 0; i < 3 * Calls; i++)
        {
            Activity request = source.StartActivity("GET /")!;
            Activity.Current = null; // so that Stop restores nothing: only the listener's allocations are measured
            request.AddEvent(Evaluation(new()
            {
                ["feature_flag.key"] = "dark-mode",
                ["feature_flag.result.variant"] = "on",
                ["feature_flag.result.value"] = "dark",
                ["feature_flag.context.id"] = "user-7",
                ["feature_flag.result.reason"] = "targeting_match",
                ["feature_flag.provider.name"] = "flagd",
            }));
            stopped.Enqueue(request);
        }

        long allocated = await ThreadAllocations.LeastOfThreeAsync(() =>
        {
            for (int i = 0; i < Calls; i++)
            {
                stopped.Dequeue().Stop();
            }

            return Task.CompletedTask;
        });

        // The FeatureEvent (about 120 bytes), the two metadata properties' array and their FlagObject (about 110):
        // no boxing, no LINQ, no dictionary.
        Assert.InRange(allocated / Calls, 1, 320);
        Assert.Equal(3 * Calls, (await ExportedLinesAsync(host)).Length);
    }

    [Fact]
    public void AddFeatureFlagEvents_NoName_IsRefused()
    {
        FlagExportBuilder export = new ServiceCollection().AddFlagExport();

        Assert.Throws<ArgumentException>(() => export.AddFeatureFlagEvents());
        Assert.Throws<ArgumentException>(() => export.AddFeatureFlagEvents(" "));
    }

    private static ActivityEvent Evaluation(ActivityTagsCollection attributes) => new("feature_flag.evaluation", EvaluatedAt, attributes);

    private async Task<IHost> StartAsync(params string[] sourceNames)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Logging.ClearProviders().AddFakeLogging();
        _ = builder.Services.AddSingleton<TimeProvider>(_time);
        _ = builder.Services.AddFlagExport(export => export
            .AddFileExporter("flags", file => file.OutputDir = _folder.Path, pipeline => pipeline.FlushInterval = TimeSpan.FromHours(1))
            .AddFeatureFlagEvents(sourceNames.Length == 0 ? [_sourceName] : sourceNames));
        IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }

    /// <summary>Flushes, then every line of every file written so far, in file-name order.</summary>
    private async Task<string[]> ExportedLinesAsync(IHost host)
    {
        await host.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);
        var lines = new List<string>();
        foreach (string file in _folder.FileNames())
        {
            lines.AddRange(await File.ReadAllLinesAsync(Path.Combine(_folder.Path, file), TestContext.Current.CancellationToken));
        }

        return [.. lines];
    }

    private sealed class Unprintable
    {
        public override string ToString() => throw new InvalidOperationException("no text");
    }
}

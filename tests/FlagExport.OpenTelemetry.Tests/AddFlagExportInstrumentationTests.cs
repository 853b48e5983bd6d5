using System.Diagnostics;
using FlagExport.OpenTelemetry.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace FlagExport.OpenTelemetry.Tests;

/// <summary>
/// The export and replay activities as an application sees them: a host with <c>AddOpenTelemetry()</c>, FlagExport's
/// instrumentation added to its tracer and meter providers, and OpenTelemetry's in-memory exporters.
/// </summary>
public sealed class AddFlagExportInstrumentationTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
    private readonly TempDirectory _folder = new();
    private readonly List<Activity> _spans = [];
    private readonly List<Metric> _metrics = [];

    // A name of its own per test: the source and the meter are process-wide.
    private readonly string _name = $"otel-{Guid.NewGuid():N}";

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Export_Written_OneSpanWithTheFileItsBytesEventsAndAttempt_AndTheMetrics()
    {
        using IHost host = Build(new FileExporter(new FileExporterOptions { OutputDir = _folder.Path }, timeProvider: _time));
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(sink.Add(Evaluation(i)));
        }

        await sink.FlushAsync(TestContext.Current.CancellationToken);

        Activity span = Assert.Single(Telemetry.Spans(_spans, _name, "flagexport.export"));
        string file = Assert.Single(_folder.Files());
        Assert.Equal($"export {_name}", span.DisplayName);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Equal(default, span.ParentSpanId);
        Assert.Equal(1, span.GetTagItem("flagexport.batch.attempt"));
        Assert.Equal(3, span.GetTagItem("flagexport.batch.events"));
        Assert.Equal(new FileInfo(file).Length, span.GetTagItem("flagexport.batch.bytes"));
        Assert.Equal(new[] { file }, span.GetTagItem("flagexport.destinations"));
        Assert.Equal("written", span.GetTagItem("flagexport.outcome"));
        Assert.Null(span.GetTagItem("error.type"));
        Assert.Equal(3, File.ReadAllLines(file).Length);

        Assert.True(host.Services.GetRequiredService<MeterProvider>().ForceFlush());
        Assert.Equal(3, Telemetry.Sum(_metrics, "flagexport.events.added", _name));
        Assert.Equal(3, Telemetry.Sum(_metrics, "flagexport.events.exported", _name));
        Assert.Equal(1, Telemetry.Sum(_metrics, "flagexport.flushes", _name));
        Assert.Equal(1, Telemetry.Sum(_metrics, "flagexport.batch.size", _name));
        Assert.Equal(3, Telemetry.HistogramSum(_metrics, "flagexport.batch.size", _name));
        Assert.Equal(0, Telemetry.Sum(_metrics, "flagexport.export.failures", _name));
        Assert.Equal(0, Telemetry.Sum(_metrics, "flagexport.events.buffered", _name));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Export_FailedThenWritten_TwoSpansOfOneBatchWithAttemptsOutcomesAndErrorType()
    {
        var exporter = new FailingFirst(new FileExporter(new FileExporterOptions { OutputDir = _folder.Path }, timeProvider: _time));
        using IHost host = Build(exporter);
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        Assert.True(sink.Add(Evaluation(1)));

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));
        await sink.FlushAsync(TestContext.Current.CancellationToken); // the kept batch, retried

        Activity[] spans = Telemetry.Spans(_spans, _name, "flagexport.export");
        Assert.Equal([1, 2], spans.Select(s => (int)s.GetTagItem("flagexport.batch.attempt")!));
        Assert.Equal(["failed", "written"], spans.Select(s => (string)s.GetTagItem("flagexport.outcome")!));
        Assert.Equal(spans[0].GetTagItem("flagexport.batch.id"), spans[1].GetTagItem("flagexport.batch.id"));

        Assert.Equal("System.IO.IOException", spans[0].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, spans[0].Status);
        Assert.Equal("The share is offline.", spans[0].StatusDescription);
        Assert.Equal("exception", Assert.Single(spans[0].Events).Name);
        Assert.Null(spans[0].GetTagItem("flagexport.destinations"));

        Assert.Null(spans[1].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, spans[1].Status);
        Assert.Equal(new[] { Assert.Single(_folder.Files()) }, spans[1].GetTagItem("flagexport.destinations"));

        Assert.True(host.Services.GetRequiredService<MeterProvider>().ForceFlush());
        Assert.Equal(1, Telemetry.Sum(_metrics, "flagexport.export.failures", _name));
        Assert.Equal(1, Telemetry.Sum(_metrics, "flagexport.flushes", _name));
        Assert.Equal(2, Telemetry.Sum(_metrics, "flagexport.flush.duration", _name)); // one duration per attempt
        Assert.Equal(1, Telemetry.Sum(_metrics, "flagexport.events.exported", _name));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Replay_AfterARestart_OneSpanOverTheBacklogWithItsAttemptsAsChildren()
    {
        string buffer = Path.Combine(_folder.Path, "buffer");
        using (IHost down = Build(new FailingFirst(new FileExporter(new FileExporterOptions { OutputDir = _folder.Path }, timeProvider: _time), failures: int.MaxValue), buffer))
        {
            await down.StartAsync(TestContext.Current.CancellationToken);
            IFlagEventSink sink = down.Services.GetRequiredService<IFlagEventSink>();
            for (int i = 0; i < 250; i++)
            {
                Assert.True(sink.Add(Evaluation(i)));
            }

            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));
            await AdvanceUntilCompletedAsync(down.StopAsync(TestContext.Current.CancellationToken));
        }

        int attemptsBefore = Telemetry.Spans(_spans, _name, "flagexport.export").Length;
        Assert.Empty(Telemetry.Spans(_spans, _name, "flagexport.replay"));

        using (IHost up = Build(new FileExporter(new FileExporterOptions { OutputDir = _folder.Path }, timeProvider: _time), buffer))
        {
            await up.StartAsync(TestContext.Current.CancellationToken);
            await up.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);

            Activity replay = Assert.Single(Telemetry.Spans(_spans, _name, "flagexport.replay"));
            Assert.Equal($"replay {_name}", replay.DisplayName);
            Assert.Equal(default, replay.ParentSpanId);
            Assert.Equal(250L, replay.GetTagItem("flagexport.replay.records"));
            Assert.Equal(250L, replay.GetTagItem("flagexport.replay.events"));
            Assert.Equal(0L, replay.GetTagItem("flagexport.replay.dead_lettered"));
            Assert.Equal(3, replay.GetTagItem("flagexport.replay.batches")); // MaxEventInMemory 100
            Assert.Equal("completed", replay.GetTagItem("flagexport.outcome"));
            Assert.Equal(ActivityStatusCode.Unset, replay.Status);

            Activity[] attempts = [.. Telemetry.Spans(_spans, _name, "flagexport.export").Skip(attemptsBefore)];
            Assert.Equal([100, 100, 50], attempts.Select(a => (int)a.GetTagItem("flagexport.batch.events")!));
            Assert.All(attempts, a =>
            {
                Assert.Equal(replay.TraceId, a.TraceId);
                Assert.Equal(replay.SpanId, a.ParentSpanId);
                Assert.Equal("written", a.GetTagItem("flagexport.outcome"));
            });
            Assert.True((int)attempts[0].GetTagItem("flagexport.batch.attempt")! > 1, "the batch in flight before the restart keeps counting its attempts");
            Assert.All(attempts.Skip(1), a => Assert.Equal(1, a.GetTagItem("flagexport.batch.attempt")));
            Assert.InRange(replay.StartTimeUtc, DateTime.MinValue, attempts[0].StartTimeUtc);
            Assert.Equal(250, _folder.Lines().Length);
            await up.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public void AddFlagExportInstrumentation_NullBuilder_IsRefused()
    {
        Assert.Throws<ArgumentNullException>(() => ((TracerProviderBuilder)null!).AddFlagExportInstrumentation());
        Assert.Throws<ArgumentNullException>(() => ((MeterProviderBuilder)null!).AddFlagExportInstrumentation());
    }

    private static FeatureEvent Evaluation(long id) => new() { CreationDate = id, Key = "flag", UserKey = "user", Variation = "on", Value = true };

    private IHost Build(IExporter exporter, string? bufferDirectory = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddSingleton<TimeProvider>(_time);
        _ = builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddFlagExportInstrumentation().AddInMemoryExporter(_spans))
            .WithMetrics(metrics => metrics.AddFlagExportInstrumentation().AddInMemoryExporter(_metrics));
        FlagExportBuilder export = builder.Services.AddFlagExport();
        if (bufferDirectory is not null)
        {
            _ = export.UseDurableBuffer(bufferDirectory);
        }

        _ = export.AddExporter(_name, _ => exporter, o =>
        {
            o.FlushInterval = TimeSpan.FromHours(1);
            o.MaxEventInMemory = 100;
            o.ShutdownTimeout = TimeSpan.FromSeconds(5);
        });
        return builder.Build();
    }

    /// <summary>Moves the fake clock a second at a time until <paramref name="task"/> completes (retries and deadlines run on it).</summary>
    private async Task AdvanceUntilCompletedAsync(Task task)
    {
        for (int i = 0; i < 10_000 && !task.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            _ = await Task.WhenAny(task, Task.Delay(5, TestContext.Current.CancellationToken));
        }

        Assert.True(task.IsCompleted, "The task did not complete while the fake clock advanced.");
        await task;
    }

    /// <summary>Fails the first <paramref name="failures"/> calls as a network share that is down would, then writes with <paramref name="inner"/>.</summary>
    private sealed class FailingFirst(IExporter inner, int failures = 1) : IExporter
    {
        private int _calls;

        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _calls) <= failures
                ? Task.FromException(new IOException("The share is offline."))
                : inner.ExportAsync(batch, cancellationToken);
    }
}

using System.Diagnostics;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Pipeline;

/// <summary>The activities of the <c>FlagExport</c> source, seen by a plain <see cref="ActivityListener"/>.</summary>
public sealed class ExportActivitiesTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
    private readonly TempDirectory _folder = new();

    // A name of its own per test: the source is process-wide and parallel tests' pipelines report there too.
    private readonly string _name = $"activities-{Guid.NewGuid():N}";

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Export_Written_OneActivityNamingTheFileItsBytesEventsAndAttempt()
    {
        using var recorder = new ExportActivityRecorder(_name);
        using var exporter = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path }, timeProvider: _time);
        await using var pipeline = new DataExporter(exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1) }, _time, name: _name);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i)));
        }

        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        Activity export = Assert.Single(recorder.Exports);
        string file = Path.Combine(_folder.Path, Assert.Single(_folder.FileNames()));
        Assert.Equal(
            new SortedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["flagexport.batch.attempt"] = 1,
                ["flagexport.batch.bytes"] = new FileInfo(file).Length,
                ["flagexport.batch.events"] = 3,
                ["flagexport.batch.id"] = export.GetTagItem("flagexport.batch.id"),
                ["flagexport.destinations"] = new[] { file },
                ["flagexport.exporter"] = _name,
                ["flagexport.outcome"] = "written",
            },
            ExportActivityRecorder.Tags(export));
        Assert.False(string.IsNullOrEmpty(export.GetTagItem("flagexport.batch.id") as string));
        Assert.Equal($"export {_name}", export.DisplayName);
        Assert.Equal(ActivityKind.Internal, export.Kind);
        Assert.Equal(ActivityStatusCode.Unset, export.Status);
        Assert.Empty(export.Events);
    }

    [Fact]
    public async Task Export_CreatedAndFlushedInsideTheCallersActivity_IsTheRootOfItsOwnTrace()
    {
        string callerSource = $"FlagExport.Tests.Caller.{Guid.NewGuid():N}";
        using var recorder = new ExportActivityRecorder(_name, alsoSample: callerSource);
        using var caller = new ActivitySource(callerSource);
        var exporter = new InMemoryExporter();

        using (Activity? request = caller.StartActivity("POST /events"))
        {
            Assert.NotNull(request);
            await using var pipeline = new DataExporter(exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1) }, _time, name: _name);
            Assert.True(pipeline.Add(TestEvents.Feature(1)));
            await pipeline.FlushAsync(TestContext.Current.CancellationToken);

            Activity export = Assert.Single(recorder.Exports);
            Assert.Null(export.Parent);
            Assert.Equal(default, export.ParentSpanId);
            Assert.NotEqual(request.TraceId, export.TraceId);
            Assert.Same(request, Activity.Current); // the caller's ambient activity is left as it was
        }
    }

    [Fact]
    public async Task Export_TheExporterRunsInsideTheAttemptsActivity_SoItsOwnSpansNestUnderIt()
    {
        using var recorder = new ExportActivityRecorder(_name);
        Activity? seenByExporter = null;
        var exporter = new CallbackExporter(() => seenByExporter = Activity.Current);
        await using var pipeline = new DataExporter(exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1) }, _time, name: _name);
        Assert.True(pipeline.Add(TestEvents.Feature(1)));

        await pipeline.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Same(Assert.Single(recorder.Exports), seenByExporter);
    }

    [Fact]
    public async Task Export_TimedOut_FailedWithErrorTypeTimeout()
    {
        using var recorder = new ExportActivityRecorder(_name);
        var exporter = new BlockingExporter();
        var pipeline = new DataExporter(exporter, new DataExporterOptions
        {
            FlushInterval = TimeSpan.FromHours(1),
            ExportTimeout = TimeSpan.FromSeconds(5),
            ShutdownTimeout = TimeSpan.FromSeconds(1),
        }, _time, name: _name);
        Assert.True(pipeline.Add(TestEvents.Feature(1)));

        Task flush = pipeline.FlushAsync(TestContext.Current.CancellationToken);
        await exporter.Started.WaitAsync(TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(5));
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => flush);

        Activity export = Assert.Single(recorder.Exports);
        Assert.Equal("failed", export.GetTagItem("flagexport.outcome"));
        Assert.Equal("timeout", export.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, export.Status);
        Assert.Null(export.GetTagItem("flagexport.destinations"));
        Assert.Equal(0L, export.GetTagItem("flagexport.batch.bytes"));

        // The drain tries the kept batch again until the shutdown deadline, on the fake clock.
        await TestEvents.AdvanceUntilCompletedAsync(_time, pipeline.DisposeAsync().AsTask(), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Export_PermanentFailure_DeadLetteredNamingTheLetterAndTheException()
    {
        using var recorder = new ExportActivityRecorder(_name);
        string letters = Path.Combine(_folder.Path, "dead-letter");
        var exporter = new ThrowingExporter(new BucketMissingException());
        await using var pipeline = new DataExporter(exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), DeadLetterDirectory = letters }, _time, name: _name);
        Assert.True(pipeline.Add(TestEvents.Feature(1)));

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));

        Activity export = Assert.Single(recorder.Exports);
        Assert.Equal("dead_lettered", export.GetTagItem("flagexport.outcome"));
        Assert.Equal(Assert.Single(DeadLetters.List(letters)), export.GetTagItem("flagexport.dead_letter"));
        Assert.Equal(typeof(BucketMissingException).FullName, export.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, export.Status);
        Assert.Equal("bucket 'nope' does not exist", export.StatusDescription);
        ActivityEvent exception = Assert.Single(export.Events);
        Assert.Equal("exception", exception.Name);
        Assert.Equal(typeof(BucketMissingException).FullName, exception.Tags.Single(t => t.Key == "exception.type").Value);
    }

    [Fact]
    public async Task Replay_StillFailingAfterTheRestart_AttemptsAreItsChildrenAndItEndsStoppedAtShutdown()
    {
        using var recorder = new ExportActivityRecorder(_name);
        using var intakes = new ExportActivityRecorder("durable-buffer.feature");
        string buffer = Path.Combine(_folder.Path, "buffer");

        using (IHost down = BuildDurable(buffer, new AlwaysFailingExporter()))
        {
            await down.StartAsync(TestContext.Current.CancellationToken);
            IFlagEventSink sink = down.Services.GetRequiredService<IFlagEventSink>();
            for (int i = 0; i < 250; i++)
            {
                Assert.True(sink.Add(TestEvents.Feature(i)));
            }

            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));
            await TestEvents.AdvanceUntilCompletedAsync(_time, down.StopAsync(TestContext.Current.CancellationToken), TimeSpan.FromSeconds(1));
        }

        Assert.Empty(recorder.Replays); // nothing was in the buffer when the first process started
        int attemptsBefore = recorder.Exports.Count;
        Assert.All(recorder.Exports, e => Assert.Equal("failed", e.GetTagItem("flagexport.outcome")));

        using (IHost stillDown = BuildDurable(buffer, new AlwaysFailingExporter()))
        {
            await stillDown.StartAsync(TestContext.Current.CancellationToken);
            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => stillDown.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken));
            await TestEvents.AdvanceUntilCompletedAsync(_time, stillDown.StopAsync(TestContext.Current.CancellationToken), TimeSpan.FromSeconds(1));
        }

        Activity replay = Assert.Single(recorder.Replays);
        Assert.Equal(
            new SortedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["flagexport.exporter"] = _name,
                ["flagexport.outcome"] = "stopped",
                ["flagexport.replay.batches"] = 0,
                ["flagexport.replay.dead_lettered"] = 0L,
                ["flagexport.replay.events"] = 0L,
                ["flagexport.replay.records"] = 250L,
            },
            ExportActivityRecorder.Tags(replay));
        Activity[] afterRestart = [.. recorder.Exports.Skip(attemptsBefore)];
        Assert.NotEmpty(afterRestart);
        Assert.All(afterRestart, e =>
        {
            Assert.Equal(replay.TraceId, e.TraceId);
            Assert.Equal(replay.SpanId, e.ParentSpanId);
            Assert.Equal("failed", e.GetTagItem("flagexport.outcome"));
        });
        Assert.Equal(attemptsBefore + 1, afterRestart[0].GetTagItem("flagexport.batch.attempt")); // attempts count across the restart
        Assert.Equal(recorder.Exports[0].GetTagItem("flagexport.batch.id"), afterRestart[0].GetTagItem("flagexport.batch.id"));
        Assert.Empty(intakes.Exports); // appending to the buffer is not an export
    }

    private IHost BuildDurable(string buffer, IExporter exporter)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddSingleton<TimeProvider>(_time);
        _ = builder.Services.AddFlagExport().UseDurableBuffer(buffer).AddExporter(_name, _ => exporter, o =>
        {
            o.FlushInterval = TimeSpan.FromHours(1);
            o.ShutdownTimeout = TimeSpan.FromSeconds(5);
        });
        return builder.Build();
    }

    private sealed class CallbackExporter(Action onExport) : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            onExport();
            return Task.CompletedTask;
        }
    }

    private sealed class ThrowingExporter(Exception failure) : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken) => Task.FromException(failure);
    }

    private sealed class BucketMissingException() : Exception("bucket 'nope' does not exist"), IExportFailure
    {
        public bool IsPermanent => true;

        public string Reason => Message;
    }
}

using FlagExport.Durability;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Hosting;

public sealed class FlagExportHealthCheckTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string DeadLetterDirectory => Path.Combine(_folder.Path, "dead-letter");

    [Fact]
    public async Task Check_EveryExporterWriting_IsHealthy_WithEachExportersData()
    {
        var features = new InMemoryExporter();
        using IHost host = Build(export => export
            .AddExporter("features", _ => features, Hourly)
            .AddExporter("tracking", _ => new InMemoryExporter(), o => { Hourly(o); o.EventType = EventType.Tracking; }));
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        _ = sink.Add(TestEvents.Feature(1));
        await sink.FlushAsync(TestContext.Current.CancellationToken);

        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("2 exporters writing.", entry.Description);
        var written = Assert.IsType<ExporterHealth>(entry.Data["features"]);
        Assert.Equal(HealthStatus.Healthy, written.Status);
        Assert.Empty(written.Reasons);
        Assert.Equal(_time.GetUtcNow(), written.LastSuccess);
        Assert.Null(written.FailingSince);
        Assert.Equal(0, written.BufferedCount);
        Assert.Equal(300_000, written.MaxBufferedEvents); // the default: 3 x MaxEventInMemory
        Assert.Null(Assert.IsType<ExporterHealth>(entry.Data["tracking"]).LastSuccess);
        Assert.False(entry.Data.ContainsKey(DurableBufferHealth.Key));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Check_FailingWithoutSuccessForFailingAfter_IsUnhealthy_NamingTheExporter_AndHealthyAgainAfterASuccess()
    {
        var exporter = new InMemoryExporter { FailuresLeft = int.MaxValue };
        using IHost host = Build(export => export.AddExporter("s3", _ => exporter, Hourly), o => o.FailingAfter = TimeSpan.FromMinutes(5));
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        _ = sink.Add(TestEvents.Feature(1));
        DateTimeOffset firstFailure = _time.GetUtcNow();
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status); // failing, but not for FailingAfter yet

        _time.Advance(TimeSpan.FromMilliseconds(1));
        HealthReportEntry failing = await CheckAsync(host);
        Assert.Equal(HealthStatus.Unhealthy, failing.Status);
        var health = Assert.IsType<ExporterHealth>(failing.Data["s3"]);
        Assert.Equal(firstFailure, health.FailingSince);
        Assert.Equal(
            $"s3: no export succeeded since 2025-03-01T12:00:00.0000000+00:00 ({health.ConsecutiveFailures} failures in a row, last success never).",
            failing.Description);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Equal(1, health.BufferedCount);

        exporter.FailuresLeft = 0;
        await sink.FlushAsync(TestContext.Current.CancellationToken);

        HealthReportEntry recovered = await CheckAsync(host);
        Assert.Equal(HealthStatus.Healthy, recovered.Status);
        Assert.Null(Assert.IsType<ExporterHealth>(recovered.Data["s3"]).FailingSince);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Check_MemoryBufferAtNinetyPercent_IsUnhealthy_BelowItHealthy()
    {
        using IHost host = Build(export => export.AddExporter("slow", _ => new InMemoryExporter(), o =>
        {
            Hourly(o);
            o.MaxEventInMemory = 10;
            o.MaxBufferedEvents = 10;
        }));
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        for (int i = 0; i < 8; i++)
        {
            _ = sink.Add(TestEvents.Feature(i));
        }

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);

        _ = sink.Add(TestEvents.Feature(8));
        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("slow: its buffer is 90% full (9 of 10 events); new events are dropped once it is full.", entry.Description);
        Assert.Equal(9, Assert.IsType<ExporterHealth>(entry.Data["slow"]).BufferedCount);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Check_DurableBufferNearlyFull_IsUnhealthy_NamingTheExporterBehind_WithTheBuffersData()
    {
        string bufferDirectory = Path.Combine(_folder.Path, "buffer");
        using IHost host = Build(export => export
            .UseDurableBuffer(bufferDirectory, DurableBufferOptions.MinMaxBufferBytes)
            .AddExporter("down", _ => new AlwaysFailingExporter(), Hourly));
        await host.StartAsync(TestContext.Current.CancellationToken);
        ExporterPipelines pipelines = host.Services.GetRequiredService<ExporterPipelines>();
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);

        // Events of about 1 KiB: the buffer (1 MiB) passes 90% after some 900 of them.
        string key = new('k', 1000);
        int appended = 0;
        while (pipelines.DurableBuffer!.SizeBytes < 0.9 * DurableBufferOptions.MinMaxBufferBytes)
        {
            FeatureEvent[] events = [.. Enumerable.Range(appended, 10).Select(i => new FeatureEvent { CreationDate = i, Key = key, UserKey = "u" })];
            Assert.True((await pipelines.Intake.AcceptAsync(events, TestContext.Current.CancellationToken)).Accepted > 0, "The buffer filled up before 90%.");
            appended += events.Length;
        }

        await TestEvents.WaitUntilAsync(() => pipelines.Pipelines[0].BufferedCount == appended, "the pipeline sees every event on disk");
        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        var buffer = Assert.IsType<DurableBufferHealth>(entry.Data[DurableBufferHealth.Key]);
        Assert.Equal(DurableBufferOptions.MinMaxBufferBytes, buffer.MaxBytes);
        Assert.True(buffer.SizeBytes >= 0.9 * buffer.MaxBytes);
        var down = Assert.IsType<ExporterHealth>(entry.Data["down"]);
        Assert.True(down.IsDurable);
        Assert.Null(down.MaxBufferedEvents);
        Assert.StartsWith($"down: the durable buffer is 9", entry.Description, StringComparison.Ordinal);
        Assert.Contains($"% full ({buffer.SizeBytes} of 1048576 bytes in {buffer.Directory}) with {appended} events of this exporter; new events are refused once it is full", entry.Description, StringComparison.Ordinal);

        // The exporter is down and the fake clock never reaches its shutdown deadline: stop without waiting (the events stay on disk).
        using var giveUp = new CancellationTokenSource();
        await giveUp.CancelAsync();
        await host.StopAsync(giveUp.Token);
    }

    [Fact]
    public async Task Check_DeadLettersWritten_IsUnhealthy_SayingWhereTheyAreAndHowToReplayThem()
    {
        using IHost host = Build(export => export.AddExporter("bucket", _ => new PermanentlyFailingExporter(), o =>
        {
            Hourly(o);
            o.DeadLetterDirectory = DeadLetterDirectory;
        }));
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        _ = sink.Add(TestEvents.Feature(1));
        _ = sink.Add(TestEvents.Feature(2));
        await FlushIntoADeadLetterAsync(host);

        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Single(DeadLetters.List(DeadLetterDirectory));
        Assert.Equal(
            $"bucket: 1 batches (2 events) were set aside as dead letters in {DeadLetterDirectory}; fix the cause, then replay them with DeadLetters.ReplayAsync (this stays reported until the process restarts).",
            entry.Description);
        var health = Assert.IsType<ExporterHealth>(entry.Data["bucket"]);
        Assert.Equal(1, health.DeadLetterBatchCount);
        Assert.Equal(2, health.DeadLetteredCount);
        Assert.Equal(DeadLetterDirectory, health.DeadLetterDirectory);
        Assert.Equal(0, health.BufferedCount);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Check_DeadLetterThatCannotBeWritten_IsUnhealthyAtOnce_NamingTheFolderAndTheError()
    {
        // A file where the folder should be: the letter cannot be written, so the batch stays in the pipeline.
        string blocked = Path.Combine(_folder.Path, "not-a-folder");
        await File.WriteAllTextAsync(blocked, "", TestContext.Current.CancellationToken);
        string letters = Path.Combine(blocked, "dead-letter");
        using IHost host = Build(export => export.AddExporter("bucket", _ => new PermanentlyFailingExporter(), o =>
        {
            Hourly(o);
            o.DeadLetterDirectory = letters;
        }));
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        _ = sink.Add(TestEvents.Feature(1));
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));
        ExportWorker pipeline = host.Services.GetRequiredService<ExporterPipelines>().Pipelines[0];
        await TestEvents.WaitUntilAsync(() => pipeline.DeadLetterError is not null, "the letter fails");

        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.StartsWith($"bucket: a batch it cannot write could not be set aside either: the dead-letter folder {letters} cannot be written (", entry.Description, StringComparison.Ordinal);
        Assert.Equal(1, pipeline.BufferedCount);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Check_WithAFailureStatus_ReportsIt_ForTheCheckAndTheExporter()
    {
        using IHost host = Build(
            export => export.AddExporter("bucket", _ => new PermanentlyFailingExporter(), o => { Hourly(o); o.DeadLetterDirectory = DeadLetterDirectory; }),
            failureStatus: HealthStatus.Degraded);
        await host.StartAsync(TestContext.Current.CancellationToken);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        _ = sink.Add(TestEvents.Feature(1));
        await FlushIntoADeadLetterAsync(host);

        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal(HealthStatus.Degraded, Assert.IsType<ExporterHealth>(entry.Data["bucket"]).Status);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Options_Invalid_FailAtStart_NamingTheOptionAndValue()
    {
        using IHost host = Build(export => export.AddExporter("a", _ => new InMemoryExporter()), o =>
        {
            o.FailingAfter = TimeSpan.FromSeconds(-1);
            o.BufferFullRatio = 1.5;
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal(
            [
                "FlagExportHealthCheckOptions[flagexport]:FailingAfter must not be negative; got '-00:00:01'.",
                "FlagExportHealthCheckOptions[flagexport]:BufferFullRatio must be greater than 0 and at most 1; got '1.5'.",
            ],
            error.Failures);
    }

    [Fact]
    public void Options_Defaults_AreOneMinuteAndNinetyPercent()
    {
        var options = new FlagExportHealthCheckOptions();

        Assert.Equal(TimeSpan.FromMinutes(1), options.FailingAfter);
        Assert.Equal(0.9, options.BufferFullRatio);
    }

    /// <summary>No interval export during a test: exports happen on flush only.</summary>
    [Fact]
    public async Task Check_DurableBufferThatCannotWrite_IsUnhealthy_NamingTheBufferAndTheError()
    {
        string bufferDirectory = Path.Combine(_folder.Path, "buffer");
        using IHost host = Build(export => export
            .UseDurableBuffer(bufferDirectory)
            .AddExporter("up", _ => new InMemoryExporter(), Hourly));
        await host.StartAsync(TestContext.Current.CancellationToken);
        ExporterPipelines pipelines = host.Services.GetRequiredService<ExporterPipelines>();
        FeatureEvent[] events = [new FeatureEvent { CreationDate = 1, Key = "flag", UserKey = "u" }];
        Assert.Equal(1, (await pipelines.Intake.AcceptAsync(events, TestContext.Current.CancellationToken)).Accepted);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);

        // The folder deleted under the running buffer: the next write is refused instead of going to an unlinked file.
        Directory.Delete(bufferDirectory, recursive: true);
        EventIntakeResult refused = await pipelines.Intake.AcceptAsync(events, TestContext.Current.CancellationToken);
        Assert.Equal(EventIntakeOutcome.Failed, refused.Outcome);
        _ = Assert.IsType<RecordsDiscardedException>(refused.Failure);
        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        var buffer = Assert.IsType<DurableBufferHealth>(entry.Data[DurableBufferHealth.Key]);
        Assert.Contains("no longer exists", buffer.AppendError, StringComparison.Ordinal);
        Assert.Contains("no longer exists", buffer.LastAppendFailure, StringComparison.Ordinal); // the request it refused
        Assert.StartsWith($"{DurableBufferHealth.Key}: the durable buffer in {buffer.Directory} cannot write to its disk (", entry.Description, StringComparison.Ordinal);
        Assert.Contains("new events are refused until a write succeeds", entry.Description, StringComparison.Ordinal);

        using var giveUp = new CancellationTokenSource();
        await giveUp.CancelAsync();
        await host.StopAsync(giveUp.Token);
    }

    [Fact]
    public async Task Check_AddedEventsWaitingForAFullDurableBuffer_IsUnhealthy_WithTheDropsAndTheRefusal()
    {
        string bufferDirectory = Path.Combine(_folder.Path, "buffer");
        using IHost host = Build(export => export
            .UseDurableBuffer(bufferDirectory, DurableBufferOptions.MinMaxBufferBytes)
            .AddExporter("down", _ => new AlwaysFailingExporter(), o => { Hourly(o); o.MaxEventInMemory = 10; o.MaxBufferedEvents = 20; }));
        await host.StartAsync(TestContext.Current.CancellationToken);
        ExporterPipelines pipelines = host.Services.GetRequiredService<ExporterPipelines>();
        string key = new('k', 1000);
        for (int i = 0; ; i += 10)
        {
            FeatureEvent[] events = [.. Enumerable.Range(i, 10).Select(n => new FeatureEvent { CreationDate = n, Key = key, UserKey = "u" })];
            if ((await pipelines.Intake.AcceptAsync(events, TestContext.Current.CancellationToken)).Outcome == EventIntakeOutcome.Full)
            {
                break;
            }
        }

        // The added events' queue holds the exporter's maxBufferedEvents (20) while the buffer refuses them; more are dropped.
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        int accepted = Enumerable.Range(0, 25).Count(i => sink.Add(new FeatureEvent { CreationDate = i, Key = key, UserKey = "added" }));
        await TestEvents.WaitUntilAsync(() => pipelines.Appender!.QueuedCount == 20 && pipelines.Appender.LastFailure is not null, "the appender is refused");
        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(20, accepted);
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        var buffer = Assert.IsType<DurableBufferHealth>(entry.Data[DurableBufferHealth.Key]);
        Assert.Equal((20, 5), (buffer.QueuedCount, buffer.DroppedCount));
        Assert.Contains($"the buffer is full (MaxBufferBytes = {DurableBufferOptions.MinMaxBufferBytes})", buffer.LastAppendFailure, StringComparison.Ordinal);
        Assert.Contains($"{DurableBufferHealth.Key}: 20 added events wait in memory for the durable buffer in {buffer.Directory} (100% of the 20 it holds), which refused them: the buffer is full", entry.Description, StringComparison.Ordinal);

        using var giveUp = new CancellationTokenSource();
        await giveUp.CancelAsync();
        await host.StopAsync(giveUp.Token);
    }

    private static void Hourly(DataExporterOptions options) => options.FlushInterval = TimeSpan.FromHours(1);

    /// <summary>The flush fails (the export did), and the pipeline sets the batch aside right after.</summary>
    private static async Task FlushIntoADeadLetterAsync(IHost host)
    {
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken));
        ExportWorker pipeline = host.Services.GetRequiredService<ExporterPipelines>().Pipelines[0];
        await TestEvents.WaitUntilAsync(() => pipeline.DeadLetterBatchCount == 1, "the batch is set aside");
    }

    private static async Task<HealthReportEntry> CheckAsync(IHost host)
    {
        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);
        return Assert.Single(report.Entries, e => e.Key == "flagexport").Value;
    }

    private IHost Build(Action<FlagExportBuilder> configure, Action<FlagExportHealthCheckOptions>? health = null, HealthStatus? failureStatus = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddSingleton<TimeProvider>(_time);
        configure(builder.Services.AddFlagExport());
        _ = builder.Services.AddHealthChecks().AddFlagExport(configure: health, failureStatus: failureStatus);
        return builder.Build();
    }

    /// <summary>Fails every export with a failure that retrying cannot heal, so the pipeline writes a dead letter at once.</summary>
    private sealed class PermanentlyFailingExporter : IExporter
    {
        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken) =>
            Task.FromException(new PermanentException());

        private sealed class PermanentException() : Exception("The bucket does not exist."), IExportFailure
        {
            public bool IsPermanent => true;

            public string Reason => "the bucket does not exist";
        }
    }
}

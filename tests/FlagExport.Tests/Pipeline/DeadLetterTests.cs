using System.Diagnostics.Metrics;
using System.Text.Json;
using FlagExport.Buffers;
using FlagExport.Formats;
using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Pipeline;

public sealed class DeadLetterTests : IDisposable
{
    private readonly TempDirectory _folder = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));

    public void Dispose() => _folder.Dispose();

    private string Letters => Path.Combine(_folder.Path, "dead-letter");

    [Fact]
    public async Task PermanentFailure_BatchIsSetAsideAtOnceWithItsEventsAndManifest_AndThePipelineMovesOn()
    {
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory meterFactory = services.GetRequiredService<IMeterFactory>();
        using var deadLettered = new MetricCollector<long>(meterFactory, PipelineMetrics.MeterName, PipelineMetrics.EventsDeadLetteredName);
        var logger = new FakeLogger();
        var exporter = new ScriptedExporter(new FailureThatCannotHeal("bucket 'nope' does not exist"));
        await using var pipeline = new DataExporter(exporter, Options(), _time, logger, meterFactory, name: "s3-main"); // no size trigger: the flush makes the attempt
        FeatureEvent[] events = [TestEvents.Feature(1), TestEvents.Feature(2)];
        foreach (FeatureEvent e in events)
        {
            Assert.True(pipeline.Add(e));
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        Assert.Contains("set aside as a dead letter", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, exporter.Calls); // not retried

        string letter = Assert.Single(DeadLetters.List(Letters));
        using (var expected = new PooledBufferWriter())
        {
            await JsonLinesEncoder.Instance.EncodeAsync(events, expected, TestContext.Current.CancellationToken);
            Assert.Equal(expected.WrittenSpan.ToArray(), await File.ReadAllBytesAsync(Path.Combine(letter, "events.jsonl"), TestContext.Current.CancellationToken));
        }

        using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(letter, "manifest.json"), TestContext.Current.CancellationToken));
        Assert.Equal("s3-main", manifest.RootElement.GetProperty("exporter").GetString());
        Assert.Equal(2, manifest.RootElement.GetProperty("eventCount").GetInt32());
        Assert.True(manifest.RootElement.GetProperty("permanent").GetBoolean());
        Assert.Contains("bucket 'nope' does not exist", manifest.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, pipeline.DeadLetteredCount);
        Assert.Equal(2, deadLettered.GetMeasurementSnapshot().EvaluateAsCounter());
        FakeLogRecord setAside = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "BatchSetAside");
        Assert.Equal(LogLevel.Error, setAside.Level);
        Assert.Contains(letter, setAside.Message, StringComparison.Ordinal);
        Assert.Contains("bucket 'nope' does not exist", setAside.Message, StringComparison.Ordinal);
        Assert.Null(setAside.Exception); // one line at Error; the exception and its stack at Debug only
        FakeLogRecord detail = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "BatchSetAsideDetail");
        Assert.Equal(LogLevel.Debug, detail.Level);
        Assert.NotNull(detail.Exception);
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Id.Name == "ExportFailed"); // logged once, as set aside

        // The next batch is not held back by the first.
        Assert.True(pipeline.Add(TestEvents.Feature(3)));
        await pipeline.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal([3L], exporter.Written.Select(e => e.CreationDate));
    }

    [Fact]
    public async Task TransientFailure_RetriedUntilMaxRetryDuration_ThenSetAside()
    {
        var exporter = new ScriptedExporter(Enumerable.Repeat<Exception>(new IOException("timeout"), 1000).ToArray());
        await using var pipeline = new DataExporter(exporter, Options(maxRetryDuration: TimeSpan.FromMinutes(10)), _time, name: "slow");
        Assert.True(pipeline.Add(TestEvents.Feature(1)));
        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        Assert.Empty(DeadLetters.List(Letters));

        // Backoff retries (1 s doubling to 60 s) run on the fake clock; after 10 minutes of failures the batch goes aside.
        await TestEvents.WaitUntilAsync(() =>
        {
            _time.Advance(TimeSpan.FromSeconds(30));
            return pipeline.DeadLetterBatchCount == 1;
        }, "the batch is set aside");

        Assert.InRange(exporter.Calls, 5, 30);
        _ = Assert.Single(DeadLetters.List(Letters));
    }

    [Fact]
    public async Task ReplayAsync_AfterTheCauseIsFixed_EveryEventIsExportedOnceAndTheLetterIsDeleted()
    {
        var broken = new ScriptedExporter(new FailureThatCannotHeal("access denied"));
        await using (var pipeline = new DataExporter(broken, Options(), _time, name: "x"))
        {
            for (int i = 0; i < 5; i++)
            {
                _ = pipeline.Add(TestEvents.Feature(i));
            }

            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        }

        var fixedExporter = new InMemoryExporter();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport().AddExporter("x", _ => fixedExporter, o => o.DeadLetterDirectory = Letters);
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        long replayed = await DeadLetters.ReplayAsync(Letters, host.Services, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(5, replayed);
        Assert.Equal([0L, 1, 2, 3, 4], fixedExporter.Ids);
        Assert.Empty(DeadLetters.List(Letters));
        Assert.Single(fixedExporter.Batches); // one batch, the letter's, through the exporter that set it aside
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplayAsync_TheLetterGoesOnlyToTheExporterThatSetItAside_UnderItsOriginalIdentity(bool durable)
    {
        var broken = new ScriptedExporter(new FailureThatCannotHeal("access denied"));
        string originalId;
        await using (var pipeline = new DataExporter(broken, Options(), _time, name: "s3"))
        {
            _ = pipeline.Add(TestEvents.Feature(7));
            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
            originalId = Path.GetFileName(Assert.Single(DeadLetters.List(Letters)));
        }

        var files = new InMemoryExporter();
        var s3 = new IdCapturingExporter();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        FlagExportBuilder export = builder.Services.AddFlagExport().AddExporter("files", _ => files).AddExporter("s3", _ => s3);
        string buffer = Path.Combine(_folder.Path, "buffer");
        if (durable)
        {
            _ = export.UseDurableBuffer(buffer);
        }

        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        _ = await DeadLetters.ReplayAsync(Letters, host.Services, cancellationToken: TestContext.Current.CancellationToken);
        await host.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);

        Assert.Empty(files.Batches); // nor appended to the durable buffer, which every exporter of the type reads
        Assert.Equal([originalId], s3.Ids);
        Assert.Equal(0, host.Services.GetRequiredService<ExporterPipelines>().DurableBuffer?.DurablePosition ?? 0);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task ReplayAsync_InterruptedAfterTheWrite_TheNextReplayFindsTheFileInsteadOfWritingASecond()
    {
        var broken = new ScriptedExporter(new FailureThatCannotHeal("access denied"));
        await using (var pipeline = new DataExporter(broken, Options(), _time, name: "files"))
        {
            _ = pipeline.Add(TestEvents.Feature(1));
            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        }

        string output = Path.Combine(_folder.Path, "out");
        var files = new FileExporterOptions { OutputDir = output, Filename = "f-{{ .UUID}}.{{ .Format}}" };

        // The first replay writes the file, then its outcome is lost (as when the process dies before deleting the letter).
        using (var fileExporter = new FileExporter(files))
        {
            await ReplayWithAsync(new WritesThenFails(fileExporter));
        }

        _ = Assert.Single(DeadLetters.List(Letters));
        using (var fileExporter = new FileExporter(files))
        {
            await ReplayWithAsync(fileExporter);
        }

        _ = Assert.Single(Directory.GetFiles(output));
        Assert.Empty(DeadLetters.List(Letters));
    }

    [Fact]
    public async Task FileExporter_EveryNameTaken_SetsTheBatchAsideAtOnce_InsteadOfRetryingForADay()
    {
        // A constant file name in a folder that already holds it and all its suffixes: no name can ever be free for it.
        string output = Path.Combine(_folder.Path, "out");
        Directory.CreateDirectory(output);
        for (int suffix = 0; suffix <= ExportFileEncoder.MaxSuffix; suffix++)
        {
            await File.WriteAllBytesAsync(Path.Combine(output, ExportFileEncoder.WithSuffix("events.json", suffix)), [], TestContext.Current.CancellationToken);
        }

        using var files = new FileExporter(new FileExporterOptions { OutputDir = output, Filename = "events.{{ .Format}}" }, timeProvider: _time);
        await using (var pipeline = new DataExporter(files, Options(), _time, name: "files"))
        {
            _ = pipeline.Add(TestEvents.Feature(1));
            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        }

        string letter = Assert.Single(DeadLetters.List(Letters));
        using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(letter, "manifest.json"), TestContext.Current.CancellationToken));
        Assert.Contains("Could not find a free name for 'events.json'", manifest.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.True(manifest.RootElement.GetProperty("permanent").GetBoolean());
        Assert.Equal(ExportFileEncoder.MaxSuffix + 1, Directory.GetFiles(output).Length); // nothing overwritten, nothing added
    }

    [Fact]
    public async Task ReplayThrough_AnotherTargetThanAnInterruptedReplay_IsRefusedNamingTheEarlierTarget()
    {
        var broken = new ScriptedExporter(new FailureThatCannotHeal("access denied"));
        await using (var pipeline = new DataExporter(broken, Options(), _time, name: "files"))
        {
            _ = pipeline.Add(TestEvents.Feature(1));
            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        }

        // The replay through "first" writes the events, then its outcome is lost (the process dies before the letter is deleted).
        var first = new InMemoryExporter();
        var second = new InMemoryExporter();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport()
            .AddExporter("first", _ => new WritesThenFails(first))
            .AddExporter("second", _ => second);
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        _ = await Assert.ThrowsAsync<IOException>(() => DeadLetters.ReplayAsync(Letters, host.Services, "first", TestContext.Current.CancellationToken));
        Assert.Equal(1, first.EventCount);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => DeadLetters.ReplayAsync(Letters, host.Services, "second", TestContext.Current.CancellationToken));
        Assert.Contains("was being replayed through exporter 'first'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("not written again through exporter 'second'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, second.EventCount);
        _ = Assert.Single(DeadLetters.List(Letters)); // kept for a replay through 'first'

        await host.StopAsync(TestContext.Current.CancellationToken);
    }


    private async Task ReplayWithAsync(IExporter exporter)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport().AddExporter("files", _ => exporter);
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            _ = await DeadLetters.ReplayAsync(Letters, host.Services, cancellationToken: TestContext.Current.CancellationToken);
        }
        catch (IOException)
        {
            // the lost outcome of the first replay
        }

        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    private sealed class WritesThenFails(IExporter inner) : IExporter
    {
        public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            await inner.ExportAsync(batch, cancellationToken);
            throw new IOException("the answer was lost");
        }
    }

    [Fact]
    public async Task EncodingFailure_IsPermanent()
    {
        var exporter = new ScriptedExporter(new ExportEncodingException("bad", new FormatException("no")));
        await using var pipeline = new DataExporter(exporter, Options(), _time, name: "enc");
        _ = pipeline.Add(TestEvents.Feature(1));

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));

        _ = Assert.Single(DeadLetters.List(Letters));
        Assert.Equal(1, exporter.Calls);
    }

    [Fact]
    public void Constructor_ExporterBuiltForTheOtherEventType_IsRefusedNamingBoth()
    {
        using var exporter = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path }, EventType.Feature);

        var error = Assert.Throws<ArgumentException>(() => new DataExporter(exporter, new DataExporterOptions { EventType = EventType.Tracking }, name: "t"));

        Assert.StartsWith("Exporter 't' was built for Feature events, but its pipeline's EventType is Tracking", error.Message, StringComparison.Ordinal);
    }

    private DataExporterOptions Options(TimeSpan? maxRetryDuration = null) => new()
    {
        FlushInterval = TimeSpan.FromHours(1),
        MaxEventInMemory = 100,
        DeadLetterDirectory = Letters,
        MaxRetryDuration = maxRetryDuration ?? DataExporterOptions.DefaultMaxRetryDuration,
        ShutdownTimeout = TimeSpan.FromMilliseconds(50),
    };

    private sealed class FailureThatCannotHeal(string reason) : Exception(reason), IExportFailure
    {
        public bool IsPermanent => true;

        public string Reason => Message;
    }

    private sealed class IdCapturingExporter : IExporter
    {
        private readonly List<string> _ids = [];

        public IReadOnlyList<string> Ids
        {
            get
            {
                lock (_ids)
                {
                    return [.. _ids];
                }
            }
        }

        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            lock (_ids)
            {
                _ids.Add(batch.Id);
            }

            return Task.CompletedTask;
        }
    }

    /// <summary>Throws the given failures in order, then writes.</summary>
    private sealed class ScriptedExporter(params Exception[] failures) : IExporter
    {
        private readonly List<ExportableEvent> _written = [];
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public IReadOnlyList<ExportableEvent> Written
        {
            get
            {
                lock (_written)
                {
                    return [.. _written];
                }
            }
        }

        public Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            int call = Interlocked.Increment(ref _calls);
            if (call <= failures.Length)
            {
                throw failures[call - 1];
            }

            lock (_written)
            {
                _written.AddRange(batch.Events);
            }

            return Task.CompletedTask;
        }
    }
}

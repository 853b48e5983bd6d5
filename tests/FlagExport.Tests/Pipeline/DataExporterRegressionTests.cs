using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Pipeline;

/// <summary>Races and edge cases found in review, each pinned by the test that showed it.</summary>
public sealed class DataExporterRegressionTests
{
    [Fact]
    public async Task Add_SizeTriggerRearmedAfterEachExport_NeverMissesAWakeUp()
    {
        // Each Add crosses MaxEventInMemory = 1 right after the worker re-armed the trigger: without a full fence in the
        // re-arm, a wake-up was lost within a few thousand rounds and the event waited for the next interval (an hour).
        var exporter = new InMemoryExporter();
        await using var pipeline = new DataExporter(
            exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), MaxEventInMemory = 1 }, new FakeTimeProvider());

        const int Rounds = 20_000;
        for (int i = 0; i < Rounds; i++)
        {
            Assert.True(pipeline.Add(TestEvents.Feature(i)));
            var waited = Stopwatch.StartNew();
            while (pipeline.ExportedCount <= i)
            {
                // A generous cap that only a lost wake-up reaches; not a timing assertion.
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"Event {i} was not exported: the size trigger did not wake the worker.");
                Thread.SpinWait(20);
            }
        }

        Assert.Equal(Rounds, pipeline.ExportedCount);
    }

    [Fact]
    public async Task DisposeAsync_AbandonsAHungExporter_WithoutClearingTheListItStillReads()
    {
        var time = new FakeTimeProvider();
        var exporter = new HoldingExporter();
        var pipeline = new DataExporter(exporter, new DataExporterOptions { ShutdownTimeout = TimeSpan.FromSeconds(5), MaxEventInMemory = 10 }, time);
        for (int i = 0; i < 3; i++)
        {
            pipeline.Add(TestEvents.Feature(i));
        }

        Task dispose = pipeline.DisposeAsync().AsTask();
        IReadOnlyList<ExportableEvent> held = await exporter.Started.Task;
        await TestEvents.AdvanceUntilCompletedAsync(time, dispose, TimeSpan.FromSeconds(1));

        Assert.Equal([0L, 1, 2], held.Select(e => e.CreationDate));
        Assert.Equal(3, pipeline.NotWrittenCount);
    }

    [Fact]
    public async Task Add_AfterDispose_IsRefusedCountedAndLoggedOnce()
    {
        var logger = new FakeLogger();
        var pipeline = new DataExporter(new InMemoryExporter(), new DataExporterOptions(), new FakeTimeProvider(), logger);
        await pipeline.DisposeAsync();

        Assert.False(pipeline.Add(TestEvents.Feature(1)));
        Assert.False(pipeline.Add(TestEvents.Feature(2)));

        Assert.Equal(2, pipeline.RefusedAfterStopCount);
        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "AddedAfterStop");
        Assert.Contains("refuses new events", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_DisposedPipelineOnASharedMeterFactory_ReportsNothingMore()
    {
        // The factory caches the meter by name and tags: a new pipeline with the same name shares it with the old one.
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory factory = services.GetRequiredService<IMeterFactory>();
        using var added = new MetricCollector<long>(factory, PipelineMetrics.MeterName, PipelineMetrics.EventsAddedName);
        var first = new DataExporter(new InMemoryExporter(), new DataExporterOptions(), new FakeTimeProvider(), meterFactory: factory, name: "p");
        first.Add(TestEvents.Feature(1));
        await first.DisposeAsync();
        await using var second = new DataExporter(new InMemoryExporter(), new DataExporterOptions(), new FakeTimeProvider(), meterFactory: factory, name: "p");
        second.Add(TestEvents.Feature(2));
        second.Add(TestEvents.Feature(3));

        added.RecordObservableInstruments();

        Assert.Equal([2L], added.GetMeasurementSnapshot().Select(m => m.Value));
    }

    [Theory]
    [InlineData("FlushInterval", "10.00:00:00", "must be at most 1.00:00:00 (written hh:mm:ss); got '10.00:00:00'.")]
    [InlineData("FlushInterval", "00:00:00.0005", "must be at least 1 millisecond; got '00:00:00.0005000'.")]
    [InlineData("MaxEventInMemory", "10000001", "must be at most 10,000,000; got '10000001'.")]
    [InlineData("MaxBufferedEvents", "100000001", "must be at most 100,000,000; got '100000001'.")]
    public void Constructor_OptionOutOfRange_NamesTheLimit(string option, string value, string expectedEnd)
    {
        var options = new DataExporterOptions();
        switch (option)
        {
            case "FlushInterval":
                options.FlushInterval = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "MaxEventInMemory":
                options.MaxEventInMemory = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                options.MaxBufferedEvents = 100_000_000;
                break;
            default:
                options.MaxBufferedEvents = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                break;
        }

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new DataExporter(new InMemoryExporter(), options));

        Assert.Equal($"DataExporterOptions:{option} {expectedEnd}", error.Message);
    }

    private sealed class HoldingExporter : IExporter
    {
        public TaskCompletionSource<IReadOnlyList<ExportableEvent>> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task ExportAsync(ExportBatch batch, CancellationToken cancellationToken)
        {
            IReadOnlyList<ExportableEvent> events = batch.Events;
            Started.TrySetResult(events);
            await Task.Delay(Timeout.Infinite, CancellationToken.None); // ignores its token, like a stuck upload
        }
    }
}

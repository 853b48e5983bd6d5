using System.Globalization;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Pipeline;

public sealed class DataExporterOptionsTests
{
    [Fact]
    public void Defaults_AreTheOnesTheOptionsTableDocuments()
    {
        var options = new DataExporterOptions();

        // docs/configuration.md, table "Option | Default | Meaning", written as the table writes them.
        Assert.Equal(TimeSpan.Parse("00:01:00", CultureInfo.InvariantCulture), options.FlushInterval);
        Assert.Equal(100000, options.MaxEventInMemory);
        Assert.Null(options.MaxBufferedEvents); // "3 × MaxEventInMemory"
        Assert.Equal(3L * 100000, options.EffectiveMaxBufferedEvents);
        Assert.Equal(EventType.Feature, options.EventType);
        Assert.Equal(TimeSpan.Parse("00:00:30", CultureInfo.InvariantCulture), options.ExportTimeout);
        Assert.Equal(TimeSpan.Parse("00:00:30", CultureInfo.InvariantCulture), options.ShutdownTimeout);
        Assert.Equal(TimeSpan.Parse("1.00:00:00", CultureInfo.InvariantCulture), options.MaxRetryDuration);
        Assert.Equal("./dead-letter", options.DeadLetterDirectory);
        var buffer = new DurableBufferOptions();
        Assert.Null(buffer.BufferDirectory);
        Assert.Equal(10L * 1024 * 1024 * 1024, buffer.MaxBufferBytes); // 10 GiB
    }

    [Theory]
    [InlineData(1, null, 3)]
    [InlineData(7, null, 21)]
    [InlineData(10_000_000, null, 30_000_000)]
    [InlineData(7, 7, 7)]
    [InlineData(7, 1_000, 1_000)]
    public void EffectiveMaxBufferedEvents_IsTheSetValueOrThreeTimesMaxEventInMemory(int maxEventInMemory, int? maxBufferedEvents, long expected)
    {
        var options = new DataExporterOptions { MaxEventInMemory = maxEventInMemory, MaxBufferedEvents = maxBufferedEvents };

        Assert.Equal(expected, options.EffectiveMaxBufferedEvents);
    }

    [Fact]
    public async Task Pipeline_MaxBufferedEventsUnset_HoldsThreeTimesMaxEventInMemory()
    {
        // Nothing is written while the exporter fails, so the pipeline holds exactly its effective bound.
        var exporter = new InMemoryExporter { FailuresLeft = int.MaxValue };
        await using var pipeline = new DataExporter(exporter, new DataExporterOptions { MaxEventInMemory = 3 }, new FakeTimeProvider());
        using var recover = exporter.SucceedFromDispose();

        int accepted = Enumerable.Range(0, 40).Count(i => pipeline.Add(TestEvents.Feature(i)));

        Assert.Equal(9, accepted);
        Assert.Equal(31, pipeline.DroppedCount);
        Assert.Equal(9, pipeline.BufferedCount);
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
}

namespace FlagExport.S3.Tests;

/// <summary>Splitting a batch by the S3Path date fields (no server needed).</summary>
public sealed class BatchPartitionerTests
{
    private static readonly long Noon = new DateTimeOffset(2021, 4, 9, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    [Fact]
    public void Partition_NoDateField_ReturnsTheBatchItselfUnderTheCleanPrefix()
    {
        FeatureEvent[] events = TestEvents.Create(3, "a");

        var groups = BatchPartitioner.Partition(Settings("/go-feature-flag//variations/"), events);

        Assert.Equal("go-feature-flag/variations/", Assert.Single(groups).Prefix);
        Assert.Same(events, groups[0].Events);
    }

    [Fact]
    public void Partition_DayFieldWithEventsInSeveralHoursOfOneDay_IsOneUncopiedGroup()
    {
        FeatureEvent[] events = [.. TestEvents.Create(2, "a", Noon), .. TestEvents.Create(2, "b", Noon + 7200)];

        var groups = BatchPartitioner.Partition(Settings("dt={{ .Year}}-{{ .Month}}-{{ .Day}}"), events);

        Assert.Equal("dt=2021-04-09/", Assert.Single(groups).Prefix);
        Assert.Same(events, groups[0].Events);
    }

    [Fact]
    public void Partition_HourField_GroupsByHourInFirstSeenOrderKeepingEventOrder()
    {
        FeatureEvent[] h12 = TestEvents.Create(2, "h12", Noon + 59);
        FeatureEvent[] h13 = TestEvents.Create(2, "h13", Noon + 3600);
        FeatureEvent[] h12b = TestEvents.Create(1, "h12b", Noon + 3599);

        var groups = BatchPartitioner.Partition(Settings("{{ .Day}}/{{ .Hour}}/"), [h12[0], h13[0], h12[1], h12b[0], h13[1]]);

        Assert.Equal(["09/12/", "09/13/"], groups.Select(g => g.Prefix));
        Assert.Equal([h12[0], h12[1], h12b[0]], groups[0].Events);
        Assert.Equal([h13[0], h13[1]], groups[1].Events);
    }

    [Fact]
    public void Partition_CreationDatesBeforeTheEpoch_UseTheirOwnHour()
    {
        FeatureEvent[] events = [.. TestEvents.Create(1, "before", -1), .. TestEvents.Create(1, "epoch", 0)];

        var groups = BatchPartitioner.Partition(Settings("{{ .Year}}/{{ .Hour}}"), events);

        Assert.Equal(["1969/23/", "1970/00/"], groups.Select(g => g.Prefix));
    }

    private static S3ExportSettings Settings(string s3Path) =>
        S3ExportSettings.Create(new S3ExporterOptions { Bucket = "b", S3Path = s3Path });
}

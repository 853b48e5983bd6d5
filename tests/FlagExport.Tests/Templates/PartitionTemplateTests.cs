namespace FlagExport.Tests.Templates;

/// <summary>Rendering partition paths and splitting batches by them (the S3Path option and exporters built on the toolkit).</summary>
public sealed class PartitionTemplateTests
{
    private static readonly long Noon = new DateTimeOffset(2021, 4, 9, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    [Fact]
    public void Render_DateFields_AreZeroPaddedUtc()
    {
        // 2021-04-09T02:05:07Z
        long creationDate = new DateTimeOffset(2021, 4, 9, 2, 5, 7, TimeSpan.Zero).ToUnixTimeSeconds();

        string path = Parse("events/{{ .Year}}/{{ .Month}}/{{ .Day}}/{{ .Hour}}/").Render(creationDate);

        Assert.Equal("events/2021/04/09/02/", path);
    }

    [Theory]
    [InlineData("year={{ .Year}}/month={{ .Month}}/day={{ .Day}}", "year=2021/month=04/day=09/")]
    [InlineData("dt={{ .Year}}-{{ .Month}}-{{ .Day}}/", "dt=2021-04-09/")]
    public void Render_HiveLayouts_AreLiteralsAroundTheFields(string template, string expected) =>
        Assert.Equal(expected, Parse(template).Render(Noon));

    [Theory]
    [InlineData("/go-feature-flag/variations/", "go-feature-flag/variations/")]
    [InlineData("go-feature-flag//variations", "go-feature-flag/variations/")]
    [InlineData("/", "")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Render_JoinsSegmentsWithOneSlash(string? template, string expected) =>
        Assert.Equal(expected, Parse(template).Render(0));

    [Fact]
    public void Render_DateBeyondYear9999_IsClamped()
    {
        Assert.Equal("9999-12-31-23/", Parse("{{ .Year}}-{{ .Month}}-{{ .Day}}-{{ .Hour}}").Render(long.MaxValue));
    }

    [Fact]
    public void Parse_FilenameField_IsUnknown()
    {
        var error = Assert.Throws<ArgumentException>(() => PartitionTemplate.Parse("{{ .Hostname}}/", "S3Path"));

        Assert.Equal(
            "Invalid S3Path at line 1, column 4: unknown field '.Hostname'; valid fields for partition paths are Year, Month, Day, Hour. (Parameter 'S3Path')",
            error.Message);
    }

    [Fact]
    public void Partition_NoDateField_ReturnsTheBatchItselfUnderTheCleanPath()
    {
        FeatureEvent[] events = Events(3, "a", Noon);

        var groups = Parse("/go-feature-flag//variations/").Partition(events);

        Assert.False(Parse("/go-feature-flag//variations/").HasTimeFields);
        Assert.Equal("go-feature-flag/variations/", Assert.Single(groups).Path);
        Assert.Same(events, groups[0].Events);
    }

    [Fact]
    public void Partition_DayFieldWithEventsInSeveralHoursOfOneDay_IsOneUncopiedGroup()
    {
        FeatureEvent[] events = [.. Events(2, "a", Noon), .. Events(2, "b", Noon + 7200)];

        var groups = Parse("dt={{ .Year}}-{{ .Month}}-{{ .Day}}").Partition(events);

        Assert.Equal("dt=2021-04-09/", Assert.Single(groups).Path);
        Assert.Same(events, groups[0].Events);
    }

    [Fact]
    public void Partition_HourField_GroupsByHourInFirstSeenOrderKeepingEventOrder()
    {
        FeatureEvent[] h12 = Events(2, "h12", Noon + 59);
        FeatureEvent[] h13 = Events(2, "h13", Noon + 3600);
        FeatureEvent[] h12b = Events(1, "h12b", Noon + 3599);

        var groups = Parse("{{ .Day}}/{{ .Hour}}/").Partition([h12[0], h13[0], h12[1], h12b[0], h13[1]]);

        Assert.Equal(["09/12/", "09/13/"], groups.Select(g => g.Path));
        Assert.Equal([h12[0], h12[1], h12b[0]], groups[0].Events);
        Assert.Equal([h13[0], h13[1]], groups[1].Events);
    }

    [Fact]
    public void Partition_CreationDatesBeforeTheEpoch_UseTheirOwnHour()
    {
        FeatureEvent[] events = [.. Events(1, "before", -1), .. Events(1, "epoch", 0)];

        var groups = Parse("{{ .Year}}/{{ .Hour}}").Partition(events);

        Assert.Equal(["1969/23/", "1970/00/"], groups.Select(g => g.Path));
    }

    [Fact]
    public void Partition_EmptyBatch_IsRefused() =>
        Assert.Throws<ArgumentException>(() => Parse("{{ .Year}}/").Partition([]));

    private static PartitionTemplate Parse(string? template) => PartitionTemplate.Parse(template, "S3Path");

    private static FeatureEvent[] Events(int count, string tag, long creationDate) =>
        [.. Enumerable.Range(0, count).Select(i => new FeatureEvent { CreationDate = creationDate, Key = "flag", UserKey = $"{tag}-{i}" })];
}

using System.Text;
using FlagExport.Buffers;
using FlagExport.Formats;
using FlagExport.Templates;

namespace FlagExport.Tests.Formats;

public sealed class CsvEncoderTests
{
    private static FeatureEvent IssueEvent(FlagValue value) => new()
    {
        ContextKind = "anonymousUser", UserKey = "ABCD", CreationDate = 1617970547, Key = "random-key",
        Variation = "Default", Value = value, Default = false, Source = "SERVER",
    };

    [Fact]
    public async Task EncodeAsync_DefaultTemplate_GivesIssueExampleBytes()
    {
        string csv = await EncodeAsync(CsvEncoder.Create(null, EventType.Feature), IssueEvent("YO"));

        Assert.Equal("feature;anonymousUser;ABCD;1617970547;random-key;Default;YO;false;SERVER\n", csv);
    }

    [Fact]
    public async Task EncodeAsync_KindAndContextKindTemplate_GivesIssueExampleBytes()
    {
        string csv = await EncodeAsync(CsvEncoder.Create("{{ .Kind}};{{ .ContextKind}}\n", EventType.Feature), IssueEvent("YO"));

        Assert.Equal("feature;anonymousUser\n", csv);
    }

    [Fact]
    public async Task EncodeAsync_TwoEvents_OneLineEach()
    {
        var second = new FeatureEvent
        {
            ContextKind = "anonymousUser", UserKey = "EFGH", CreationDate = 1617970701, Key = "random-key",
            Variation = "Default", Value = "YO2", Version = "127", Source = "SERVER",
        };

        string csv = await EncodeAsync(CsvEncoder.Create(null, EventType.Feature), IssueEvent("YO"), second);

        Assert.Equal(
            "feature;anonymousUser;ABCD;1617970547;random-key;Default;YO;false;SERVER\n" +
            "feature;anonymousUser;EFGH;1617970701;random-key;Default;YO2;false;SERVER\n",
            csv);
    }

    [Fact]
    public void DefaultFeatureTemplate_EndsWithRealNewline()
    {
        Assert.EndsWith("{{ .Source}}\n", CsvEncoder.DefaultFeatureTemplate, StringComparison.Ordinal);
        Assert.Equal('\n', CsvEncoder.DefaultFeatureTemplate[^1]);
    }

    [Fact]
    public async Task EncodeAsync_TemplateWithBackslashN_WritesItLiterallyAsGo()
    {
        string csv = await EncodeAsync(CsvEncoder.Create(@"{{ .Kind}}\n", EventType.Feature), IssueEvent("YO"));

        Assert.Equal(@"feature\n", csv);
    }

    [Fact]
    public void Create_EmptyTemplate_UsesDefault()
    {
        Assert.Equal(CsvEncoder.DefaultFeatureTemplate, CsvEncoder.Create("", EventType.Feature).Template.Text);
    }

    [Fact]
    public void Create_InvalidTemplate_ThrowsWithOptionName()
    {
        var error = Assert.Throws<ArgumentException>(() => CsvEncoder.Create("{{ .Kind}};{{ if .Default }}", EventType.Feature));

        Assert.Equal("CsvTemplate", error.ParamName);
        Assert.StartsWith("Invalid CsvTemplate at line 1, column 15: '{{ if }}' actions are not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_FeatureFieldForTrackingEvents_IsAnError()
    {
        var error = Assert.Throws<ArgumentException>(() => CsvEncoder.Create(CsvEncoder.DefaultFeatureTemplate, EventType.Tracking));

        Assert.StartsWith("Invalid CsvTemplate at line 1, column 76: unknown field '.Variation'; valid fields for tracking events are", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_TemplateOfAnotherFieldSet_IsRejected()
    {
        CompiledTemplate template = TemplateParser.Parse("{{ .Kind}}", TemplateFieldSets.TrackingCsv, "CsvTemplate");

        var error = Assert.Throws<ArgumentException>(() => new CsvEncoder(template, EventType.Feature));

        Assert.Equal("The template was compiled for tracking events, not feature events. (Parameter 'template')", error.Message);
    }

    [Theory]
    [InlineData("Kind", "feature")]
    [InlineData("ContextKind", "anonymousUser")]
    [InlineData("UserKey", "ABCD")]
    [InlineData("CreationDate", "1617970547")]
    [InlineData("Key", "random-key")]
    [InlineData("Variation", "Default")]
    [InlineData("Value", "YO")]
    [InlineData("Default", "false")]
    [InlineData("Version", "")]
    [InlineData("Source", "SERVER")]
    [InlineData("Metadata", "")]
    [InlineData("FormattedDate", "2021-04-09T12:15:47Z")]
    public async Task EncodeAsync_EachFeatureField_PrintsItsValue(string field, string expected)
    {
        Assert.Equal(expected, await EncodeFieldAsync(field, IssueEvent("YO")));
    }

    [Fact]
    public async Task EncodeAsync_DefaultTrue_PrintsTrue()
    {
        Assert.Equal("true", await EncodeFieldAsync("Default", new FeatureEvent { Default = true }));
    }

    [Fact]
    public async Task EncodeAsync_Version_PrintsRaw()
    {
        Assert.Equal("127", await EncodeFieldAsync("Version", new FeatureEvent { Version = "127" }));
    }

    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00Z")]
    [InlineData(-1L, "1969-12-31T23:59:59Z")]
    [InlineData(253402300799L, "9999-12-31T23:59:59Z")]
    [InlineData(253402300800L, "")]
    [InlineData(long.MinValue, "")]
    public async Task EncodeAsync_FormattedDate_IsRfc3339UtcOrEmptyOutOfRange(long creationDate, string expected)
    {
        Assert.Equal(expected, await EncodeFieldAsync("FormattedDate", new FeatureEvent { CreationDate = creationDate }));
    }

    [Fact]
    public async Task EncodeAsync_NegativeCreationDate_PrintsInvariantInteger()
    {
        Assert.Equal("-42", await EncodeFieldAsync("CreationDate", new FeatureEvent { CreationDate = -42 }));
    }

    [Fact]
    public async Task EncodeAsync_NullValue_PrintsNothing()
    {
        Assert.Equal("[]", await EncodeValueAsync(FlagValue.Null));
    }

    [Fact]
    public async Task EncodeAsync_BooleanValue_PrintsTrueFalse()
    {
        Assert.Equal("[true][false]", await EncodeValueAsync(true) + await EncodeValueAsync(false));
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(1000000L, "1000000")]
    [InlineData(-123456789012L, "-123456789012")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    public async Task EncodeAsync_IntegerValue_PrintsWithoutDecimalPoint(long value, string expected)
    {
        Assert.Equal($"[{expected}]", await EncodeValueAsync(value));
    }

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(1e6, "1000000")]
    [InlineData(0.1 + 0.2, "0.30000000000000004")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(-2.5e-3, "-0.0025")]
    public async Task EncodeAsync_DoubleValue_PrintsShortestRoundTripAsJson(double value, string expected)
    {
        Assert.Equal($"[{expected}]", await EncodeValueAsync(value));
    }

    [Fact]
    public async Task EncodeAsync_StringWithSeparatorQuotesAndNonAscii_IsRawUtf8()
    {
        string csv = await EncodeValueAsync("a;b \"q\" é 😀 <&>");

        Assert.Equal("[a;b \"q\" é 😀 <&>]", csv);
    }

    [Fact]
    public async Task EncodeAsync_NonAsciiLiteralAndValue_AreUtf8Bytes()
    {
        using var buffer = new PooledBufferWriter();
        await CsvEncoder.Create("é{{ .UserKey}}\n", EventType.Feature)
            .EncodeAsync([new FeatureEvent { UserKey = "ü" }], buffer, TestContext.Current.CancellationToken);

        Assert.Equal("é"u8.ToArray().Concat("ü\n"u8.ToArray()), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task EncodeAsync_LoneSurrogate_BecomesReplacementCharacter()
    {
        Assert.Equal("[a\uFFFDb]", await EncodeValueAsync("a\uD800b"));
    }

    [Fact]
    public async Task EncodeAsync_ArrayValue_PrintsCompactJson()
    {
        FlagValue value = FlagValue.FromArray(["a", 1, 2.5, true, FlagValue.Null]);

        Assert.Equal("""[["a",1,2.5,true,null]]""", await EncodeValueAsync(value));
    }

    [Fact]
    public async Task EncodeAsync_NestedObjectValue_PrintsCompactJsonWithSortedKeys()
    {
        FlagValue value = FlagValue.FromObject(
        [
            new("z", FlagValue.FromArray([FlagValue.FromObject([new("b", "<x>")])])),
            new("a", FlagValue.Null),
        ]);

        Assert.Equal("""[{"a":null,"z":[{"b":"\u003cx\u003e"}]}]""", await EncodeValueAsync(value));
    }

    [Fact]
    public async Task EncodeAsync_Metadata_PrintsCompactJson()
    {
        var evaluation = new FeatureEvent { Metadata = new Dictionary<string, FlagValue> { ["env"] = "prod", ["count"] = 3 } };

        Assert.Equal("""{"count":3,"env":"prod"}""", await EncodeFieldAsync("Metadata", evaluation));
    }

    [Fact]
    public async Task EncodeAsync_EmptyMetadata_PrintsEmptyObject()
    {
        var evaluation = new FeatureEvent { Metadata = new Dictionary<string, FlagValue>() };

        Assert.Equal("{}", await EncodeFieldAsync("Metadata", evaluation));
    }

    [Fact]
    public async Task EncodeAsync_TrackingDefaultTemplate_PrintsTrackingFields()
    {
        var tracking = new TrackingEvent
        {
            ContextKind = "user", UserKey = "ABCD", CreationDate = 1617970547, Key = "checkout",
            EvaluationContext = new Dictionary<string, FlagValue> { ["plan"] = "pro" },
            TrackingEventDetails = new Dictionary<string, FlagValue> { ["amount"] = 12.5 },
        };

        string csv = await EncodeAsync(CsvEncoder.Create(null, EventType.Tracking), tracking);

        Assert.Equal("""tracking;user;ABCD;1617970547;checkout;{"plan":"pro"};{"amount":12.5}""" + "\n", csv);
    }

    [Fact]
    public async Task EncodeAsync_TrackingFormattedDateAndEmptyMaps_PrintDateAndEmptyObjects()
    {
        var tracking = new TrackingEvent { CreationDate = 1617970547, EvaluationContext = FlagObject.Empty, TrackingEventDetails = FlagObject.Empty };

        string csv = await EncodeAsync(
            CsvEncoder.Create("{{ .FormattedDate}}|{{ .EvaluationContext}}|{{ .TrackingEventDetails}}\n", EventType.Tracking), tracking);

        Assert.Equal("2021-04-09T12:15:47Z|{}|{}\n", csv);
    }

    [Fact]
    public async Task EncodeAsync_TrackingMissingMaps_PrintNothing()
    {
        var tracking = new TrackingEvent { CreationDate = 1617970547 };

        string csv = await EncodeAsync(CsvEncoder.Create("{{ .EvaluationContext}}|{{ .TrackingEventDetails}}\n", EventType.Tracking), tracking);

        Assert.Equal("|\n", csv);
    }

    [Fact]
    public async Task EncodeAsync_EventOfOtherType_FailsTheTask()
    {
        using var buffer = new PooledBufferWriter();
        ValueTask encoding = CsvEncoder.Create(null, EventType.Feature)
            .EncodeAsync([IssueEvent("YO"), new TrackingEvent()], buffer, TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<ArgumentException>(encoding.AsTask);

        Assert.Equal("The CSV encoder for feature events got a TrackingEvent at index 1. (Parameter 'events')", error.Message);
    }

    [Fact]
    public async Task EncodeAsync_CancelledToken_FailsTheTask()
    {
        using var buffer = new PooledBufferWriter();

        ValueTask encoding = CsvEncoder.Create(null, EventType.Feature)
            .EncodeAsync([IssueEvent("YO")], buffer, new CancellationToken(canceled: true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(encoding.AsTask);
    }

    [Fact]
    public void Format_IsCsv()
    {
        Assert.Equal(ExportFormat.Csv, CsvEncoder.Create(null, EventType.Feature).Format);
    }

    [Fact]
    public async Task EncodeAsync_100000Events_AllocatesNothingPerEvent()
    {
        var metadata = FlagObject.Create(new Dictionary<string, FlagValue> { ["env"] = "prod", ["ratio"] = 0.25 });
        FlagValue[] values = ["on", 42, 1.5, true, FlagValue.FromArray(["a", 2]), FlagValue.Null];
        var events = new ExportableEvent[100_000];
        for (int i = 0; i < events.Length; i++)
        {
            events[i] = new FeatureEvent
            {
                ContextKind = "user", UserKey = "user-é", CreationDate = 1617970547 + i, Key = "flag", Variation = "v",
                Value = values[i % values.Length], Version = "1", Metadata = metadata,
            };
        }

        CsvEncoder encoder = CsvEncoder.Create(
            CsvEncoder.DefaultFeatureTemplate.TrimEnd('\n') + ";{{ .Version}};{{ .Metadata}};{{ .FormattedDate}}\n", EventType.Feature);
        using var buffer = new PooledBufferWriter();
        await encoder.EncodeAsync(events, buffer, TestContext.Current.CancellationToken);

        long allocated = await ThreadAllocations.LeastOfThreeAsync(async () =>
        {
            buffer.Clear();
            await encoder.EncodeAsync(events, buffer, TestContext.Current.CancellationToken);
        });

        Assert.True(allocated < 1024, $"Encoding 100,000 events allocated {allocated} bytes.");
        Assert.Equal(100_000, buffer.WrittenSpan.Count((byte)'\n'));
    }

    private static async Task<string> EncodeAsync(CsvEncoder encoder, params ExportableEvent[] events)
    {
        using var buffer = new PooledBufferWriter();
        await encoder.EncodeAsync(events, buffer, TestContext.Current.CancellationToken);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static Task<string> EncodeFieldAsync(string field, FeatureEvent evaluation) =>
        EncodeAsync(CsvEncoder.Create($"{{{{ .{field}}}}}", EventType.Feature), evaluation);

    private static Task<string> EncodeValueAsync(FlagValue value) =>
        EncodeAsync(CsvEncoder.Create("[{{ .Value}}]", EventType.Feature), new FeatureEvent { Value = value });
}

using System.Text;
using System.Text.Json;
using FlagExport.Buffers;
using FlagExport.Formats;

namespace FlagExport.Tests.Formats;

public sealed class JsonLinesEncoderTests
{
    [Fact]
    public async Task EventWhoseEveryCharIsEscaped_FitsTheLineBound_AndReadsBack()
    {
        // Every field at its longest: each char escaped as \u00XX, the longest integer and float64 texts.
        string escaped = new('\u0001', 7);
        var worst = new FeatureEvent
        {
            Kind = escaped, ContextKind = escaped, UserKey = escaped, CreationDate = long.MinValue, Key = escaped, Variation = escaped,
            Value = FlagValue.FromArray([-1.2345678901234567e-300, long.MinValue, escaped, FlagValue.FromObject(FlagObject.Create([new(escaped, escaped)]))]),
            Version = escaped, Source = escaped, Metadata = FlagObject.Create([new(escaped, -1.2345678901234567e-300)]),
        };
        var tracking = new TrackingEvent
        {
            Kind = escaped, ContextKind = escaped, UserKey = escaped, CreationDate = long.MinValue, Key = escaped,
            EvaluationContext = FlagObject.Create([new(escaped, escaped)]), TrackingEventDetails = FlagObject.Create([new(escaped, long.MinValue)]),
        };

        string[] lines = (await EncodeAsync([worst, tracking])).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        using System.Text.Json.JsonDocument feature = System.Text.Json.JsonDocument.Parse(lines[0]);
        Assert.Equal(escaped, feature.RootElement.GetProperty("userKey").GetString());
        Assert.Equal(long.MinValue, feature.RootElement.GetProperty("creationDate").GetInt64());
        using System.Text.Json.JsonDocument trackingLine = System.Text.Json.JsonDocument.Parse(lines[1]);
        Assert.Equal(long.MinValue, trackingLine.RootElement.GetProperty("trackingEventDetails").GetProperty(escaped).GetInt64());
    }

    [Fact]
    public async Task EncodeAsync_IssueExample_MatchesGoFeatureFlagBytes()
    {
        ExportableEvent[] events =
        [
            new FeatureEvent
            {
                ContextKind = "anonymousUser", UserKey = "ABCD", CreationDate = 1617970547, Key = "random-key",
                Variation = "Default", Value = "YO", Default = false, Source = "SERVER",
            },
            new FeatureEvent
            {
                ContextKind = "anonymousUser", UserKey = "EFGH", CreationDate = 1617970701, Key = "random-key",
                Variation = "Default", Value = "YO2", Default = false, Version = "127", Source = "SERVER",
            },
        ];

        string expected =
            """{"kind":"feature","contextKind":"anonymousUser","userKey":"ABCD","creationDate":1617970547,"key":"random-key","variation":"Default","value":"YO","default":false,"version":"","source":"SERVER"}""" + "\n" +
            """{"kind":"feature","contextKind":"anonymousUser","userKey":"EFGH","creationDate":1617970701,"key":"random-key","variation":"Default","value":"YO2","default":false,"version":"127","source":"SERVER"}""" + "\n";
        Assert.Equal(expected, await EncodeAsync(events));
    }

    [Fact]
    public async Task EncodeAsync_EmptyContextKindAndMetadata_AreOmittedAsGoOmitempty()
    {
        var evaluation = new FeatureEvent
        {
            ContextKind = "", UserKey = "u", CreationDate = 1, Key = "k", Variation = "v", Value = FlagValue.Null,
            Default = true, Source = "PROVIDER_CACHE", Metadata = new Dictionary<string, FlagValue>(),
        };

        Assert.Equal(
            """{"kind":"feature","userKey":"u","creationDate":1,"key":"k","variation":"v","value":null,"default":true,"version":"","source":"PROVIDER_CACHE"}""" + "\n",
            await EncodeAsync([evaluation]));
    }

    [Fact]
    public async Task EncodeAsync_MetadataAndNestedValue_WrittenCompactWithSortedKeys()
    {
        var evaluation = new FeatureEvent
        {
            UserKey = "<u>", CreationDate = 2, Key = "k", Variation = "v",
            Value = FlagValue.FromObject([new("list", FlagValue.FromArray([1, 1e21])), new("flag", true)]),
            Metadata = new Dictionary<string, FlagValue> { ["version"] = 3, ["env"] = "prod", ["ratio"] = 0.5 },
        };

        Assert.Equal(
            """{"kind":"feature","contextKind":"user","userKey":"\u003cu\u003e","creationDate":2,"key":"k","variation":"v","value":{"flag":true,"list":[1,1e+21]},"default":false,"version":"","source":"SERVER","metadata":{"env":"prod","ratio":0.5,"version":3}}""" + "\n",
            await EncodeAsync([evaluation]));
    }

    [Fact]
    public async Task EncodeAsync_TrackingEvent_WritesItsOwnFields()
    {
        var tracking = new TrackingEvent
        {
            ContextKind = "user", UserKey = "ABCD", CreationDate = 1617970547, Key = "checkout",
            EvaluationContext = new Dictionary<string, FlagValue> { ["targetingKey"] = "ABCD", ["admin"] = true },
            TrackingEventDetails = new Dictionary<string, FlagValue> { ["amount"] = 12.5 },
        };

        Assert.Equal(
            """{"kind":"tracking","contextKind":"user","userKey":"ABCD","creationDate":1617970547,"key":"checkout","evaluationContext":{"admin":true,"targetingKey":"ABCD"},"trackingEventDetails":{"amount":12.5}}""" + "\n",
            await EncodeAsync([tracking]));
    }

    [Fact]
    public async Task EncodeAsync_TrackingEventWithoutMaps_WritesNullAsGoDoesForNilMaps()
    {
        var tracking = new TrackingEvent { UserKey = "ABCD", CreationDate = 1617970547, Key = "checkout" };

        Assert.Equal(
            """{"kind":"tracking","contextKind":"user","userKey":"ABCD","creationDate":1617970547,"key":"checkout","evaluationContext":null,"trackingEventDetails":null}""" + "\n",
            await EncodeAsync([tracking]));
    }

    [Fact]
    public async Task EncodeAsync_EveryLine_IsValidJsonThatRoundTrips()
    {
        var evaluation = new FeatureEvent { UserKey = "line\nbreak \"quoted\" \u2028 日本", Key = "k", Value = -0.000001 };

        string line = (await EncodeAsync([evaluation])).TrimEnd('\n');
        using JsonDocument document = JsonDocument.Parse(line);

        Assert.Equal(evaluation.UserKey, document.RootElement.GetProperty("userKey").GetString());
        Assert.Equal(-0.000001, document.RootElement.GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task EncodeAsync_SecondBatchIntoReusedBuffer_AllocatesNothingPerEvent()
    {
        ExportableEvent[] events = [.. Enumerable.Range(0, 100_000).Select(i => new FeatureEvent
        {
            ContextKind = "anonymousUser", UserKey = "user-" + i, CreationDate = 1617970547 + i, Key = "random-key",
            Variation = "Default", Value = i % 2 == 0 ? "YO" : 1.5, Version = "127",
            Metadata = new Dictionary<string, FlagValue> { ["env"] = "prod" },
        })];
        using var buffer = new PooledBufferWriter();
        await JsonLinesEncoder.Instance.EncodeAsync(events, buffer, TestContext.Current.CancellationToken);

        long allocated = await ThreadAllocations.LeastOfThreeAsync(async () =>
        {
            buffer.Clear();
            await JsonLinesEncoder.Instance.EncodeAsync(events, buffer, TestContext.Current.CancellationToken);
        });

        Assert.True(allocated < 1024, $"Encoding 100,000 events allocated {allocated} bytes.");
        Assert.Equal(100_000, Encoding.UTF8.GetString(buffer.WrittenSpan).Count(c => c == '\n'));
    }

    private static async Task<string> EncodeAsync(ExportableEvent[] events)
    {
        using var buffer = new PooledBufferWriter();
        await JsonLinesEncoder.Instance.EncodeAsync(events, buffer, TestContext.Current.CancellationToken);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

using FlagExport.Collector.Otlp;
using FlagExport.Collector.Tests.Support;
using FlagExport.Json;
using static FlagExport.Collector.Tests.Support.OtlpRequests;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// What the protobuf reader shares between the events of a request, and what it must not: equal metadata is one object,
/// different metadata stays apart, context ids are each event's own, nested values come out whole.
/// </summary>
public sealed class OtlpReaderSharingTests
{
    private const long Time = 1_733_230_547_728_000_123;

    private static FeatureEvent[] Read(byte[] body, Utf8StringCache? strings = null) =>
        [.. OtlpProtobufReader.Read(OtlpSignal.Logs, body, new OtlpEventBuilder(strings ?? new Utf8StringCache(), TimeProvider.System)).Events.Cast<FeatureEvent>()];

    private static OtlpLogRecord Evaluation(string key, string reason, string? contextId, object? value = null) =>
        new("feature_flag.evaluation", Time,
        [
            Attribute("feature_flag.key", key), Attribute("feature_flag.provider.name", "go-feature-flag"),
            Attribute("feature_flag.result.reason", reason), Attribute("feature_flag.result.value", value ?? true),
            Attribute("feature_flag.context.id", contextId),
        ]);

    [Fact]
    public void EqualMetadata_IsOneSharedObject_AndDifferentMetadataStaysApart()
    {
        byte[] body = Logs("checkout",
            Evaluation("a", "static", "u1"), Evaluation("b", "targeting_match", "u2"), Evaluation("c", "static", "u3"),
            Evaluation("d", "targeting_match", "u4"), Evaluation("e", "default", "u5"));

        FeatureEvent[] events = Read(body);

        Assert.Equal(["static", "targeting_match", "static", "targeting_match", "default"],
            events.Select(e => e.Metadata!["feature_flag.result.reason"].AsString()));
        Assert.All(events, e => Assert.Equal(["feature_flag.provider.name", "feature_flag.result.reason", "service.name"], e.Metadata!.Keys));
        Assert.Same(events[0].Metadata, events[2].Metadata);
        Assert.Same(events[1].Metadata, events[3].Metadata);
        Assert.NotSame(events[0].Metadata, events[1].Metadata);
        Assert.NotSame(events[4].Metadata, events[0].Metadata);
        Assert.True(events[4].Default);
    }

    [Fact]
    public void AttributesInAnotherOrderOrUnderOtherNames_GiveTheirOwnMetadata()
    {
        byte[] body = Logs("checkout",
            new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("feature_flag.key", "a"), Attribute("feature_flag.provider.name", "p"), Attribute("custom.one", "x")),
            new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("custom.one", "x"), Attribute("feature_flag.key", "b"), Attribute("feature_flag.provider.name", "p")),
            new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("feature_flag.key", "c"), Attribute("feature_flag.provider.name", "p"), Attribute("custom.two", "x")),
            new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("feature_flag.key", "d"), Attribute("feature_flag.provider.name", "p"), Attribute("custom.one", "y")),
            new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("feature_flag.key", "e"), Attribute("service.name", "own"), Attribute("custom.one", "x")));

        FeatureEvent[] events = Read(body);

        Assert.Equal(["a", "b", "c", "d", "e"], events.Select(e => e.Key));
        Assert.Equal(events[0].Metadata, events[1].Metadata);
        Assert.Equal(["custom.two", "feature_flag.provider.name", "service.name"], events[2].Metadata!.Keys);
        Assert.Equal(FlagValue.FromString("y"), events[3].Metadata!["custom.one"]);
        Assert.Equal(["custom.one", "service.name"], events[4].Metadata!.Keys);
        Assert.Equal(FlagValue.FromString("own"), events[4].Metadata!["service.name"]);
        Assert.Equal(FlagValue.FromString("checkout"), events[0].Metadata!["service.name"]);
    }

    [Fact]
    public void ContextIds_AreTheEventsOwnStrings_NotTheSharedCaches()
    {
        var strings = new Utf8StringCache();
        byte[] body = Logs("checkout", Evaluation("a", "static", "0f1e2d3c-20d8-40cc-8500-fee99b569345"));

        FeatureEvent first = Read(body, strings).Single();
        FeatureEvent second = Read(body, strings).Single();

        Assert.Equal("0f1e2d3c-20d8-40cc-8500-fee99b569345", second.UserKey);
        Assert.NotSame(first.UserKey, second.UserKey);
        Assert.Same(first.Key, second.Key);
    }

    [Fact]
    public void NestedListsAndArrays_ComeOutWhole_AndLeaveNothingForTheNextValue()
    {
        KeyValuePair<string, object?>[] inner = [new("z", 1L), new("a", new object?[] { "x", new object?[] { 2L, 3L } }), new("z", 4L)];
        byte[] body = Logs(null,
            Evaluation("a", "static", "u1", new KeyValuePair<string, object?>[] { new("size", 3L), new("color", "blue"), new("nested", inner) }),
            Evaluation("b", "static", "u2", new object?[] { "first", inner, "last" }));

        FeatureEvent[] events = Read(body);

        FlagObject nested = FlagObject.Create([new("a", FlagValue.FromArray([FlagValue.FromString("x"), FlagValue.FromArray([FlagValue.FromInteger(2), FlagValue.FromInteger(3)])])), new("z", FlagValue.FromInteger(4))]);
        Assert.Equal(FlagValue.FromObject([new("color", FlagValue.FromString("blue")), new("nested", FlagValue.FromObject(nested)), new("size", FlagValue.FromInteger(3))]), events[0].Value);
        Assert.Equal(FlagValue.FromArray([FlagValue.FromString("first"), FlagValue.FromObject(nested), FlagValue.FromString("last")]), events[1].Value);
    }
}

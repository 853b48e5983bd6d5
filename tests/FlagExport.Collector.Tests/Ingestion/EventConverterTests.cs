using System.Text.Json;
using FlagExport.Collector.Ingestion;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>The relay proxy's conversion rules, one at a time.</summary>
public sealed class EventConverterTests
{
    [Theory]
    [InlineData(1680246000L, 1680246000L)]
    [InlineData(9999999999L, 9999999999L)]
    [InlineData(10000000000L, 1000000000L)]
    [InlineData(1733230547728L, 1733230547L)]
    [InlineData(1733230547728123L, 1733230547L)]
    [InlineData(1733230547728123456L, 1733230547L)]
    [InlineData(0L, 0L)]
    [InlineData(-5L, -5L)]
    public void CreationDate_AboveTenDigits_KeepsItsFirstTenDigits(long given, long expected) =>
        Assert.Equal(expected, EventConverter.ToSeconds(given));

    [Fact]
    public void FieldNames_MatchCaseInsensitively_TheLastRepeatWins()
    {
        FeatureEvent feature = Feature("""{"KEY":"first","Key":"second","USERkey":"u","Source":"SERVER"}""");

        Assert.Equal("second", feature.Key);
        Assert.Equal("u", feature.UserKey);
        Assert.Equal("SERVER", feature.Source);
    }

    [Fact]
    public void MissingAndNullFields_KeepGoZeroValues()
    {
        FeatureEvent feature = Feature("""{"kind":null,"contextKind":null,"default":null,"value":null}""");

        Assert.Equal("", feature.Kind);
        Assert.Equal("", feature.ContextKind);
        Assert.Equal(0, feature.CreationDate);
        Assert.False(feature.Default);
        Assert.True(feature.Value.IsNull);
        Assert.Equal("PROVIDER_CACHE", feature.Source);
        Assert.Null(feature.Metadata);
    }

    [Fact]
    public void FractionalCreationDate_IsTruncatedForFeatures_AndRefusedForTracking()
    {
        Assert.Equal(1680246000, Feature("""{"creationDate":1680246000.9}""").CreationDate);
        Assert.Equal(1680246000, Feature("""{"creationDate":1.680246000011e12}""").CreationDate);

        using JsonDocument tracking = JsonDocument.Parse("""{"kind":"tracking","creationDate":1680246000.5}""");
        Assert.False(EventConverter.TryConvertTracking(tracking.RootElement, out _, out string? error));
        Assert.Equal("creationDate must be a whole number of seconds or milliseconds; got 1680246000.5", error);
    }

    [Fact]
    public void Meta_ReplacesTheEventsOwnMetadata_AndIsSharedAcrossEvents()
    {
        FlagObject meta = FlagObject.Create([new("env", "prod")]);
        using JsonDocument document = JsonDocument.Parse("""{"metadata":{"own":1}}""");

        Assert.True(EventConverter.TryConvertFeature(document.RootElement, meta, out FeatureEvent? first, out _));
        Assert.True(EventConverter.TryConvertFeature(document.RootElement, meta, out FeatureEvent? second, out _));

        Assert.Same(meta, first.Metadata);
        Assert.Same(first.Metadata, second.Metadata);
    }

    [Theory]
    [InlineData("""{"kind":"tracking"}""", true)]
    [InlineData("""{"kind":"Tracking"}""", false)]
    [InlineData("""{"Kind":"tracking"}""", false)]
    [InlineData("""{"kind":"feature"}""", false)]
    [InlineData("""{"kind":1}""", false)]
    [InlineData("""{}""", false)]
    public void OnlyTheExactKindTracking_IsATrackingEvent_AsInTheRelayProxy(string json, bool tracking)
    {
        using JsonDocument document = JsonDocument.Parse(json);

        Assert.Equal(tracking, EventConverter.IsTracking(document.RootElement));
    }

    [Theory]
    [InlineData("""{"userKey":42}""", "userKey must be a string; got a number")]
    [InlineData("""{"default":"true"}""", "default must be a boolean; got a string")]
    [InlineData("""{"creationDate":"1680246000"}""", "creationDate must be a number; got a string")]
    [InlineData("""{"creationDate":1e300}""", "creationDate must be a whole number of seconds or milliseconds; got 1e300")]
    [InlineData("""{"metadata":[1]}""", "metadata must be an object; got an array")]
    [InlineData("""{"value":{"a":[1e400]}}""", "value: property 'a': number 1e400 is out of range")]
    public void WrongFieldType_FailsTheEvent_NamingTheField(string json, string expected)
    {
        using JsonDocument document = JsonDocument.Parse(json);

        Assert.False(EventConverter.TryConvertFeature(document.RootElement, null, out _, out string? error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void TrackingEvent_KeepsItsObjects_AndLeavesMissingOnesNullAsGoDoes()
    {
        using JsonDocument document = JsonDocument.Parse("""{"kind":"tracking","key":"buy","evaluationContext":{"targetingKey":"u"},"trackingEventDetails":null}""");

        Assert.True(EventConverter.TryConvertTracking(document.RootElement, out TrackingEvent? tracking, out _));

        Assert.Equal("tracking", tracking.Kind);
        Assert.Equal("u", tracking.EvaluationContext!["targetingKey"].AsString());
        Assert.Null(tracking.TrackingEventDetails);
    }

    private static FeatureEvent Feature(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        Assert.True(EventConverter.TryConvertFeature(document.RootElement, null, out FeatureEvent? feature, out string? error), error);
        return feature;
    }
}

using FlagExport.Collector.Ingestion;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>The relay proxy's conversion rules for one event, one at a time.</summary>
public sealed class EventReaderTests
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
    public void CreationDate_AboveTenDigits_KeepsItsFirstTenDigits(long given, long expected)
    {
        Assert.Equal(expected, EventReader.ToSeconds(given));
        Assert.Equal(expected, Feature($$"""{"creationDate":{{given}}}""").CreationDate);
    }

    [Fact]
    public void FieldNames_MatchCaseInsensitively_TheLastRepeatWins()
    {
        FeatureEvent feature = Feature("""{"KEY":"first","Key":"second","USERkey":"u","Source":"SERVER","k\u0045y":"third"}""");

        Assert.Equal("third", feature.Key);
        Assert.Equal("u", feature.UserKey);
        Assert.Equal("SERVER", feature.Source);
    }

    [Fact]
    public void ARepeatedField_OfTheRightType_MendsAnEarlierWrongOne()
    {
        Assert.Equal("u", Feature("""{"userKey":42,"userKey":"u"}""").UserKey);
        Assert.Equal("feature event: userKey must be a string; got a number", Rejection("""{"userKey":"u","userKey":42}"""));
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

        Assert.Equal("tracking event: creationDate must be a whole number of seconds or milliseconds; got 1680246000.5",
            Rejection("""{"kind":"tracking","creationDate":1680246000.5}"""));
    }

    [Fact]
    public void Meta_ReplacesTheEventsOwnMetadata_AndIsSharedAcrossEvents()
    {
        CollectBody body = BodyParsing.Parse("""{"meta":{"env":"prod"},"events":[{"metadata":{"own":1}},{"metadata":{"own":2}}]}""");

        FeatureEvent first = (FeatureEvent)body.Request!.Events[0], second = (FeatureEvent)body.Request.Events[1];
        Assert.Equal("prod", first.Metadata!["env"].AsString());
        Assert.False(first.Metadata.ContainsKey("own"));
        Assert.Same(first.Metadata, second.Metadata);
    }

    [Fact]
    public void Metadata_ReplacedByMeta_IsStillChecked()
    {
        Assert.Equal("feature event: metadata: property 'n': number 1e400 is out of range", Rejection("""{"metadata":{"n":1e400}}""", meta: """{"env":"prod"}"""));
        Assert.Equal("feature event: metadata must be an object; got a string", Rejection("""{"metadata":"x"}""", meta: """{"env":"prod"}"""));
    }

    [Theory]
    [InlineData("""{"kind":"tracking"}""", true)]
    [InlineData("""{"kind":"Tracking"}""", false)]
    [InlineData("""{"Kind":"tracking"}""", false)]
    [InlineData("""{"kind":"feature"}""", false)]
    [InlineData("""{"kind":1}""", false)]
    [InlineData("""{}""", false)]
    [InlineData("""{"kind":"tracking","kind":"feature"}""", false)]
    [InlineData("""{"kind":"feature","kind":"tracking"}""", true)]
    [InlineData("""{"k\u0069nd":"tr\u0061cking"}""", true)]
    public void OnlyTheExactKindTracking_IsATrackingEvent_AsInTheRelayProxy(string json, bool tracking) =>
        Assert.Equal(tracking, BodyParsing.ParseEvent(json).Event is TrackingEvent);

    [Theory]
    [InlineData("""{"userKey":42}""", "userKey must be a string; got a number")]
    [InlineData("""{"default":"true"}""", "default must be a boolean; got a string")]
    [InlineData("""{"creationDate":"1680246000"}""", "creationDate must be a number; got a string")]
    [InlineData("""{"creationDate":1e300}""", "creationDate must be a whole number of seconds or milliseconds; got 1e300")]
    [InlineData("""{"metadata":[1]}""", "metadata must be an object; got an array")]
    [InlineData("""{"value":{"a":[1e400]}}""", "value: property 'a': number 1e400 is out of range")]
    [InlineData("""{"key":{"a":1},"userKey":[2]}""", "userKey must be a string; got an array")]
    public void WrongFieldType_FailsTheEvent_NamingTheField(string json, string expected) =>
        Assert.Equal($"feature event: {expected}", Rejection(json));

    [Theory]
    [InlineData("""{"defaultValue":true}""", true)]
    [InlineData("""{"defaultvalue":true}""", true)]
    [InlineData("""{"defaultValue":false}""", false)]
    [InlineData("""{"default":false,"defaultValue":true}""", false)]
    [InlineData("""{"defaultValue":true,"default":false}""", false)]
    [InlineData("""{"default":true,"defaultValue":false}""", true)]
    [InlineData("""{"default":null,"defaultValue":true}""", true)]
    [InlineData("""{"default":false,"defaultValue":"ignored"}""", false)]
    [InlineData("""{"defaultValue":"yes"}""", false)]
    [InlineData("""{"defaultValue":{"a":[1]},"key":"k"}""", false)]
    public void DefaultValue_OfTheDotNetProvider_StandsForDefault_WhichWinsWhenBothAreSet_AndAnyOtherIsIgnored(string json, bool expected) =>
        Assert.Equal(expected, Feature(json).Default);

    [Theory]
    [InlineData("""{"\udc00":1,"key":"k"}""")]
    [InlineData("""{"kind":"\udc00xxxxxxx","key":"k"}""")]
    [InlineData("""{"k\udc00nd":"tracking","key":"k"}""")]
    public void LoneSurrogatesInNamesAndKinds_AreReadAsGoReadsThem_NotAFailure(string json) =>
        Assert.Equal("k", Feature(json).Key);

    [Fact]
    public void TrackingEvent_KeepsItsObjects_AndLeavesMissingOnesNullAsGoDoes()
    {
        var tracking = (TrackingEvent)BodyParsing.ParseEvent("""{"kind":"tracking","key":"buy","evaluationContext":{"targetingKey":"u"},"trackingEventDetails":null}""").Event!;

        Assert.Equal("tracking", tracking.Kind);
        Assert.Equal("u", tracking.EvaluationContext!["targetingKey"].AsString());
        Assert.Null(tracking.TrackingEventDetails);
    }

    [Fact]
    public void RepeatedShortStrings_AreOneString_AcrossEventsAndRequests()
    {
        var strings = new FlagExport.Json.Utf8StringCache();
        var first = (FeatureEvent)Parse(strings, """{"events":[{"key":"flag-a","variation":"on","userKey":"u1","metadata":{"env":"prod"}}]}""").Events[0];
        var second = (FeatureEvent)Parse(strings, """{"events":[{"key":"flag-a","variation":"on","userKey":"u1","metadata":{"env":"prod"}}]}""").Events[0];

        Assert.Same(first.Key, second.Key);
        Assert.Same(first.Variation, second.Variation);
        Assert.Same(first.Metadata!.Keys.Single(), second.Metadata!.Keys.Single());
        Assert.NotSame(first.UserKey, second.UserKey); // user keys are mostly unique: not kept
    }

    private static CollectRequest Parse(FlagExport.Json.Utf8StringCache strings, string body)
    {
        var parser = new CollectRequestParser(strings);
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(body);
        Assert.Equal(bytes.Length, parser.Parse(bytes, isFinalBlock: true));
        Assert.True(parser.TryComplete(out CollectRequest? request, out string? error), error);
        return request;
    }

    private static FeatureEvent Feature(string json)
    {
        (ExportableEvent? item, string? rejection) = BodyParsing.ParseEvent(json);
        Assert.True(item is FeatureEvent, rejection);
        return (FeatureEvent)item;
    }

    private static string Rejection(string json, string? meta = null)
    {
        (ExportableEvent? item, string? rejection) = BodyParsing.ParseEvent(json, meta);
        Assert.Null(item);
        return rejection!;
    }
}

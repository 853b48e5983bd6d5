using FlagExport.Collector.Otlp;
using FlagExport.Collector.Tests.Support;
using FlagExport.Json;
using Microsoft.Extensions.Time.Testing;
using static FlagExport.Collector.Tests.Support.OtlpRequests;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>OTLP protobuf requests (written by an independent test writer over Google.Protobuf) read into feature events.</summary>
public sealed class OtlpProtobufReaderTests
{
    private const long Time = 1_733_230_547_728_000_123;
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 5, 0, 0, TimeSpan.Zero);

    private static OtlpExport Read(OtlpSignal signal, byte[] body) =>
        OtlpProtobufReader.Read(signal, body, new OtlpEventBuilder(new Utf8StringCache(), new FakeTimeProvider(Now)));

    private static FeatureEvent Single(OtlpExport export) => Assert.IsType<FeatureEvent>(Assert.Single(export.Events));

    [Fact]
    public void LogRecord_NamedFeatureFlagEvaluation_IsMappedAsTheLibraryMapsActivityEvents()
    {
        byte[] body = Logs("checkout", new OtlpLogRecord("feature_flag.evaluation", Time,
            Attribute("feature_flag.key", "new-checkout"),
            Attribute("feature_flag.result.variant", "on"),
            Attribute("feature_flag.result.value", true),
            Attribute("feature_flag.context.id", "user-42"),
            Attribute("feature_flag.version", "v7"),
            Attribute("feature_flag.provider.name", "flagd"),
            Attribute("feature_flag.set.id", "shop"),
            Attribute("feature_flag.result.reason", "targeting_match"),
            Attribute("custom", 3)));

        OtlpExport export = Read(OtlpSignal.Logs, body);

        FeatureEvent e = Single(export);
        Assert.Equal(("new-checkout", "on", FlagValue.FromBoolean(true), "user-42", "user", "v7", false, "SERVER", 1_733_230_547L),
            (e.Key, e.Variation, e.Value, e.UserKey, e.ContextKind, e.Version, e.Default, e.Source, e.CreationDate));
        Assert.Equal(
            ["custom", "feature_flag.provider.name", "feature_flag.result.reason", "feature_flag.set.id", "service.name"],
            e.Metadata!.Keys);
        Assert.Equal(FlagValue.FromString("checkout"), e.Metadata["service.name"]);
        Assert.Equal(FlagValue.FromInteger(3), e.Metadata["custom"]);
        Assert.Equal((0, 0, 0), (export.Rejected, export.RejectedItems, export.Ignored));
        Assert.True(export.ExpandedBytes > "new-checkout".Length + "checkout".Length);
    }

    [Fact]
    public void SameAttributes_GiveTheSameEventAsTheLibrarysActivityEventPath()
    {
        KeyValuePair<string, object?>[] attributes =
        [
            Attribute("feature_flag.key", "k"), Attribute("feature_flag.variant", "legacy-variant"),
            Attribute("feature_flag.result.value", 1.5), Attribute("error.type", "timeout"), Attribute("feature_flag.evaluation.reason", "ERROR"),
        ];
        var activityEvent = new System.Diagnostics.ActivityEvent("feature_flag.evaluation", DateTimeOffset.FromUnixTimeMilliseconds(Time / 1_000_000),
            new System.Diagnostics.ActivityTagsCollection(attributes));

        FeatureEvent fromLibrary = FeatureFlagEvaluationEvent.ToFeatureEvent(activityEvent)!;
        FeatureEvent fromOtlp = Single(Read(OtlpSignal.Logs, Logs(null, new OtlpLogRecord("feature_flag.evaluation", Time, attributes))));

        Assert.Equal(
            (fromLibrary.Key, fromLibrary.Variation, fromLibrary.Value, fromLibrary.Default, fromLibrary.UserKey, fromLibrary.ContextKind, fromLibrary.CreationDate),
            (fromOtlp.Key, fromOtlp.Variation, fromOtlp.Value, fromOtlp.Default, fromOtlp.UserKey, fromOtlp.ContextKind, fromOtlp.CreationDate));
        Assert.Equal(fromLibrary.Metadata, fromOtlp.Metadata);
        Assert.True(fromOtlp.Default);
        Assert.Equal("anonymousUser", fromOtlp.ContextKind);
    }

    [Fact]
    public void EventNameAttribute_OfOlderSdks_MarksAnEvaluation_AndOtherRecordsAreIgnored()
    {
        byte[] body = Logs("svc",
            new OtlpLogRecord(null, Time, Attribute("event.name", "feature_flag.evaluation"), Attribute("feature_flag.key", "a")),
            new OtlpLogRecord(null, Time, Attribute("feature_flag.key", "not-an-event")),
            new OtlpLogRecord("http.request", Time, Attribute("feature_flag.key", "other-event")),
            new OtlpLogRecord("feature_flag", Time, Attribute("feature_flag.key", "legacy-name-is-for-spans")));

        OtlpExport export = Read(OtlpSignal.Logs, body);

        FeatureEvent evaluation = Single(export);
        Assert.Equal("a", evaluation.Key);
        Assert.False(evaluation.Metadata!.ContainsKey("event.name"), "the older SDKs' marker is not metadata");
        Assert.Equal(3, export.Ignored);
    }

    [Fact]
    public void EvaluationWithoutKey_IsRejected_AndNamed()
    {
        byte[] body = Logs("svc",
            new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("feature_flag.key", "a")),
            new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("feature_flag.result.variant", "on")));

        OtlpExport export = Read(OtlpSignal.Logs, body);

        Assert.Equal("a", Single(export).Key);
        Assert.Equal((1, 1), (export.Rejected, export.RejectedItems));
        Assert.Equal("resource_logs[0].scope_logs[0].log_records[1] is a feature_flag.evaluation without feature_flag.key", export.FirstRejection);
    }

    [Fact]
    public void Time_FallsBackToObservedTime_ThenToTheTimeOfArrival()
    {
        byte[] body = Logs(null,
            new OtlpLogRecord("feature_flag.evaluation", 0, Attribute("feature_flag.key", "observed")) { ObservedTimeUnixNano = 1_700_000_000_999_999_999 },
            new OtlpLogRecord("feature_flag.evaluation", 0, Attribute("feature_flag.key", "arrival")));

        OtlpExport export = Read(OtlpSignal.Logs, body);

        Assert.Equal([1_700_000_000L, Now.ToUnixTimeSeconds()], export.Events.Select(e => e.CreationDate));
    }

    [Fact]
    public void Values_OfEveryAnyValueKind_BecomeJsonValues()
    {
        byte[] body = Logs(null, new OtlpLogRecord("feature_flag.evaluation", Time,
            Attribute("feature_flag.key", "k"),
            Attribute("feature_flag.result.value", new KeyValuePair<string, object?>[] { new("b", new object?[] { 1L, "x", false, null }), new("a", 2.5) }),
            Attribute("double", double.NaN),
            Attribute("bytes", new byte[] { 1, 2, 3 }),
            Attribute("empty", null)));

        FeatureEvent e = Single(Read(OtlpSignal.Logs, body));

        Assert.Equal(FlagValue.FromObject([new("a", 2.5), new("b", FlagValue.FromArray([1L, "x", false, FlagValue.Null]))]), e.Value);
        Assert.Equal(FlagValue.FromString("NaN"), e.Metadata!["double"]);
        Assert.Equal(FlagValue.FromString("AQID"), e.Metadata["bytes"]);
        Assert.False(e.Metadata.ContainsKey("empty"));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(500)]
    public void ManyAttributes_AreSortedUnique_AndANameGivenTwiceKeepsItsLastValue(int count)
    {
        KeyValuePair<string, object?>[] attributes =
        [
            Attribute("feature_flag.key", "k"), Attribute("service.name", "first"),
            .. Enumerable.Range(0, count).Reverse().Select(i => Attribute($"a{i:D4}", (long)i)),
            Attribute("a0000", "last"), Attribute("service.name", "record"),
        ];

        IReadOnlyDictionary<string, FlagValue> metadata = Single(Read(OtlpSignal.Logs, Logs("resource", new OtlpLogRecord("feature_flag.evaluation", Time, attributes)))).Metadata!;

        Assert.Equal([.. Enumerable.Range(0, count).Select(i => $"a{i:D4}"), "service.name"], metadata.Keys);
        Assert.Equal(FlagValue.FromString("last"), metadata["a0000"]);
        Assert.Equal(FlagValue.FromString("record"), metadata["service.name"]);
    }

    [Fact]
    public void RecordsOwnServiceName_WinsOverTheResources()
    {
        byte[] body = Logs("resource-service", new OtlpLogRecord("feature_flag.evaluation", Time,
            Attribute("feature_flag.key", "k"), Attribute("service.name", "record-service")));

        Assert.Equal(FlagValue.FromString("record-service"), Single(Read(OtlpSignal.Logs, body)).Metadata!["service.name"]);
    }

    [Fact]
    public void SpanEvents_CurrentAndLegacyNames_AreEvaluations_AndRejectedOnesCountTheirSpan()
    {
        byte[] body = Traces("svc",
            [
                new OtlpSpanEvent("feature_flag.evaluation", Time, Attribute("feature_flag.key", "current"), Attribute("feature_flag.result.variant", "v1")),
                new OtlpSpanEvent("feature_flag", Time, Attribute("feature_flag.key", "legacy"), Attribute("feature_flag.variant", "v2"), Attribute("feature_flag.provider_name", "p")),
                new OtlpSpanEvent("exception", Time, Attribute("exception.type", "x")),
            ],
            [
                new OtlpSpanEvent("feature_flag.evaluation", Time),
                new OtlpSpanEvent("feature_flag.evaluation", Time),
            ]);

        OtlpExport export = Read(OtlpSignal.Traces, body);

        Assert.Equal([("current", "v1"), ("legacy", "v2")], export.Events.Cast<FeatureEvent>().Select(e => (e.Key, e.Variation)));
        Assert.Equal(FlagValue.FromString("p"), ((FeatureEvent)export.Events[1]).Metadata!["feature_flag.provider_name"]);
        Assert.Equal((2, 1, 1), (export.Rejected, export.RejectedItems, export.Ignored));
        Assert.StartsWith("resource_spans[0].scope_spans[0].spans[1]", export.FirstRejection, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyRequest_IsAnEmptyExport() =>
        Assert.Empty(Read(OtlpSignal.Logs, []).Events);

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x0A })]           // resource_logs longer than the body
    [InlineData(new byte[] { 0x0B })]                       // a group wire type
    [InlineData(new byte[] { 0x09, 1, 2, 3, 4, 5, 6, 7, 8 })] // resource_logs as fixed64
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })] // an 11-byte varint
    [InlineData(new byte[] { 0x00 })]                       // field number 0
    public void MalformedBodies_AreRefusedWhole(byte[] body)
    {
        OtlpFormatException refused = Assert.Throws<OtlpFormatException>(() => Read(OtlpSignal.Logs, body));
        Assert.StartsWith("The body is not a valid OTLP protobuf message", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesNestedBeyondTheLimit_AreRefused()
    {
        object? value = "leaf";
        for (int i = 0; i <= OtlpProtobufReader.MaxDepth + 1; i++)
        {
            value = new object?[] { value };
        }

        byte[] body = Logs(null, new OtlpLogRecord("feature_flag.evaluation", Time, Attribute("feature_flag.key", "k"), Attribute("deep", value)));

        Assert.Contains("nest deeper", Assert.Throws<OtlpFormatException>(() => Read(OtlpSignal.Logs, body)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryTruncation_OfAValidBody_ParsesOrIsRefused_NeverThrowsAnythingElse()
    {
        byte[] body = Logs("svc", new OtlpLogRecord("feature_flag.evaluation", Time,
            Attribute("feature_flag.key", "k"), Attribute("feature_flag.result.value", new object?[] { 1L, new KeyValuePair<string, object?>[] { new("x", 1.5) } })));
        for (int length = 0; length < body.Length; length++)
        {
            try
            {
                _ = Read(OtlpSignal.Logs, body[..length]);
            }
            catch (OtlpFormatException)
            {
            }
        }

        Assert.Equal("k", Single(Read(OtlpSignal.Logs, body)).Key);
    }
}

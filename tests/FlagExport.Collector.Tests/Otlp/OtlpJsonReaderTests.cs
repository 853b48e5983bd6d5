using System.Text;
using FlagExport.Collector.Otlp;
using FlagExport.Collector.Tests.Support;
using FlagExport.Json;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>OTLP/JSON requests read into events by the rules of the OTLP specification's JSON Protobuf Encoding.</summary>
public sealed class OtlpJsonReaderTests
{
    /// <summary>One flag-evaluation log record; <c>ATTRS</c> is replaced with extra attributes.</summary>
    private const string LogTemplate = """
        {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
          "scopeLogs":[{"scope":{"name":"openfeature"},"logRecords":[
            {"timeUnixNano":"1733230547000000000","observedTimeUnixNano":"1733230548000000000","eventName":"feature_flag.evaluation",
             "attributes":[{"key":"feature_flag.key","value":{"stringValue":"new-checkout"}}ATTRS]}]}]}]}
        """;

    private static OtlpExport Read(string json, OtlpSignal signal = OtlpSignal.Logs) => Read(Encoding.UTF8.GetBytes(json), signal);

    private static readonly DateTimeOffset Now = new(2026, 12, 7, 5, 0, 0, TimeSpan.Zero);

    private static OtlpEventBuilder NewBuilder(Utf8StringCache? strings = null) => new(strings ?? new Utf8StringCache(), new FakeTimeProvider(Now));

    private static OtlpExport Read(byte[] body, OtlpSignal signal = OtlpSignal.Logs) => OtlpJsonReader.Read(signal, body, NewBuilder());

    private static FeatureEvent Single(OtlpExport export) => Assert.IsType<FeatureEvent>(Assert.Single(export.Events));

    private static FlagValue Attribute(string attributes, string name) =>
        Single(Read(LogTemplate.Replace("ATTRS", attributes, StringComparison.Ordinal))).Metadata![name];

    private static string Fails(string json, OtlpSignal signal = OtlpSignal.Logs) =>
        Assert.Throws<OtlpFormatException>(() => Read(json, signal)).Message;

    [Fact]
    public void AFlagEvaluationLogRecord_BecomesAnEvent_WithTheResourceServiceName()
    {
        FeatureEvent feature = Single(Read(LogTemplate.Replace("ATTRS", "", StringComparison.Ordinal)));

        Assert.Equal("new-checkout", feature.Key);
        Assert.Equal(1733230547, feature.CreationDate);
        Assert.Equal("checkout", feature.Metadata!["service.name"].AsString());
    }

    [Fact]
    public void EveryAnyValueKind_IsRead()
    {
        Assert.Equal("x", Attribute(""",{"key":"s","value":{"stringValue":"x"}}""", "s").AsString());
        Assert.True(Attribute(""",{"key":"b","value":{"boolValue":true}}""", "b").AsBoolean());
        Assert.Equal("AAEC", Attribute(""",{"key":"y","value":{"bytesValue":"AAEC"}}""", "y").AsString());
        FlagValue array = Attribute(""",{"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"two"},{"arrayValue":{}}]}}}""", "a");
        Assert.Equal([FlagValue.FromInteger(1), "two", FlagValue.FromArray([])], array.AsArray().ToArray());
        FlagObject list = Attribute(""",{"key":"o","value":{"kvlistValue":{"values":[{"key":"k","value":{"doubleValue":0.5}},{"key":"e"}]}}}""", "o").AsObject();
        Assert.Equal(0.5, list["k"].AsDouble());
        Assert.True(list["e"].IsNull); // an empty AnyValue is null
    }

    [Theory]
    [InlineData("\"9007199254740993\"", 9007199254740993)]
    [InlineData("9007199254740993", 9007199254740993)]
    [InlineData("\"-9223372036854775808\"", long.MinValue)]
    [InlineData("1e3", 1000)]
    [InlineData("\"\\u0031\\u0032\"", 12)]
    public void IntValue_IsAStringOrANumber(string json, long expected) =>
        Assert.Equal(expected, Attribute($$$""",{"key":"i","value":{"intValue":{{{json}}}}}""", "i").AsInteger());

    [Theory]
    [InlineData("1.5", 1.5)]
    [InlineData("\"1.5\"", 1.5)]
    [InlineData("-2", -2.0)]
    public void DoubleValue_IsANumberOrANumericString(string json, double expected) =>
        Assert.Equal(expected, Attribute($$$""",{"key":"d","value":{"doubleValue":{{{json}}}}}""", "d").AsDouble());

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    public void NonFiniteDoubles_WhichJsonCannotHold_AreKeptAsTheirStrings(string special) =>
        Assert.Equal(special, Attribute($$$""",{"key":"d","value":{"doubleValue":"{{{special}}}"}}""", "d").AsString());

    [Fact]
    public void SnakeCaseNames_AreAcceptedLikeLowerCamelCase()
    {
        const string Snake = """
            {"resource_logs":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"svc"}}]},
              "scope_logs":[{"log_records":[{"time_unix_nano":"2000000000","observed_time_unix_nano":"3000000000","event_name":"feature_flag.evaluation",
                "attributes":[{"key":"feature_flag.key","value":{"string_value":"f"}},{"key":"i","value":{"int_value":7}},
                  {"key":"b","value":{"bool_value":false}},{"key":"d","value":{"double_value":2.5}},{"key":"y","value":{"bytes_value":"AA=="}},
                  {"key":"a","value":{"array_value":{"values":[{"int_value":"1"}]}}},{"key":"o","value":{"kvlist_value":{"values":[{"key":"k","value":{"bool_value":true}}]}}}]}]}]}]}
            """;

        FeatureEvent feature = Single(Read(Snake));

        Assert.Equal("f", feature.Key);
        Assert.Equal(2, feature.CreationDate);
        IReadOnlyDictionary<string, FlagValue> metadata = feature.Metadata!;
        Assert.Equal("svc", metadata["service.name"].AsString());
        Assert.Equal(7, metadata["i"].AsInteger());
        Assert.False(metadata["b"].AsBoolean());
        Assert.Equal(2.5, metadata["d"].AsDouble());
        Assert.Equal("AA==", metadata["y"].AsString());
        Assert.Equal(1, metadata["a"].AsArray()[0].AsInteger());
        Assert.True(metadata["o"].AsObject()["k"].AsBoolean());
    }

    [Fact]
    public void EscapedFieldNames_MatchAsTheirText()
    {
        string json = LogTemplate.Replace("\"timeUnixNano\"", "\"\\u0074imeUnixNano\"", StringComparison.Ordinal).Replace("ATTRS", "", StringComparison.Ordinal);

        Assert.Equal(1733230547, Single(Read(json)).CreationDate);
    }

    [Fact]
    public void UnknownFields_AtEveryLevel_AreIgnored()
    {
        const string Unknown = """
            {"future":{"a":[1,{"b":null}]},"resourceLogs":[{"schemaUrl":"x","resource":{"droppedAttributesCount":3,"attributes":[],"entityRefs":[{}]},"x":[[]],
              "scopeLogs":[{"scope":{"name":"s","version":"1","attributes":[{"key":"k","value":{"stringValue":"v"}}]},"schemaUrl":"y",
                "logRecords":[{"severityNumber":9,"severityText":"INFO","body":{"kvlistValue":{"values":[]}},"flags":1,"droppedAttributesCount":0,
                  "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","newField":{"deep":[[[true]]]},
                  "eventName":"feature_flag.evaluation","attributes":[{"key":"feature_flag.key","value":{"stringValue":"f","futureValue":1},"extra":"z"}]}]}]}]}
            """;

        Assert.Equal("f", Single(Read(Unknown)).Key);
    }

    [Fact]
    public void TraceAndSpanIds_AreNotDecoded_SoAnyWellFormedValueIsAccepted()
    {
        // OTLP/JSON writes ids as hex, proto3 JSON as base64: no event needs them, so neither refuses the request.
        const string Ids = """
            {"resourceSpans":[{"scopeSpans":[{"spans":[
              {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"","kind":2,"status":{"code":1},
               "events":[{"name":"feature_flag.evaluation","attributes":[{"key":"feature_flag.key","value":{"stringValue":"hex"}}]}]},
              {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","kind":"SPAN_KIND_SERVER",
               "events":[{"name":"feature_flag.evaluation","attributes":[{"key":"feature_flag.key","value":{"stringValue":"base64"}}]}]}]}]}]}
            """;

        Assert.Equal(["hex", "base64"], Read(Ids, OtlpSignal.Traces).Events.Select(e => e.Key));
    }

    [Fact]
    public void Times_AreStringsOrNumbers_AndNullFieldsAreAbsent()
    {
        const string Times = """
            {"resourceLogs":[{"resource":null,"scopeLogs":[{"scope":null,"logRecords":[
              {"timeUnixNano":1733230547000000000,"eventName":"feature_flag.evaluation","attributes":[{"key":"feature_flag.key","value":{"stringValue":"number"}}]},
              {"timeUnixNano":"1733230547000000000","eventName":"feature_flag.evaluation","attributes":[{"key":"feature_flag.key","value":{"stringValue":"string"}}]},
              {"timeUnixNano":null,"observedTimeUnixNano":"1733230549000000000","eventName":"feature_flag.evaluation","body":null,
               "attributes":[{"key":"feature_flag.key","value":{"stringValue":"observed"}},{"key":"nothing","value":null},{"key":"n","value":{"stringValue":null}}]},
              null,
              {"eventName":null,"attributes":null}]}]}]}
            """;

        OtlpExport export = Read(Times);

        Assert.Equal([1733230547L, 1733230547L, 1733230549L], export.Events.Select(e => e.CreationDate));
        Assert.Equal(1, export.Ignored);
        Assert.False(((FeatureEvent)export.Events[2]).Metadata?.ContainsKey("nothing") ?? false); // null attributes are not metadata
    }

    [Fact]
    public void TheEventNameAttribute_MarksAFlagEvaluation_AndOtherRecordsAreIgnored()
    {
        const string Records = """
            {"resourceLogs":[{"scopeLogs":[{"logRecords":[
              {"attributes":[{"key":"feature_flag.key","value":{"stringValue":"by-attribute"}},{"key":"event.name","value":{"stringValue":"feature_flag.evaluation"}}]},
              {"eventName":"http.request","attributes":[{"key":"feature_flag.key","value":{"stringValue":"other-event"}}]},
              {"body":{"stringValue":"a plain log line"}},
              {"eventName":"feature_flag.evaluation","attributes":[{"key":"custom","value":{"intValue":"1"}}]}]}]}]}
            """;

        OtlpExport export = Read(Records);

        Assert.Equal("by-attribute", Assert.Single(export.Events).Key);
        Assert.Equal(2, export.Ignored);
        Assert.Equal(1, export.Rejected);
    }

    [Fact]
    public void ResourceWrittenAfterItsScopes_StillNamesTheService_AndDoesNotLeakIntoTheNextResource()
    {
        const string Reordered = """
            {"resourceLogs":[
              {"scopeLogs":[{"logRecords":[{"eventName":"feature_flag.evaluation","attributes":[{"key":"feature_flag.key","value":{"stringValue":"a"}}]}]}],
               "schemaUrl":"x","resource":{"attributes":[{"value":{"stringValue":"late"},"key":"service.name"}]}},
              {"scopeLogs":[{"logRecords":[{"eventName":"feature_flag.evaluation","attributes":[{"key":"feature_flag.key","value":{"stringValue":"b"}}]}]}]}]}
            """;

        OtlpExport export = Read(Reordered);

        Assert.Equal("late", ((FeatureEvent)export.Events[0]).Metadata!["service.name"].AsString());
        Assert.Null(((FeatureEvent)export.Events[1]).Metadata);
    }

    [Fact]
    public void SpanEvents_NamedAsFlagEvaluations_BecomeEvents_AndTheSpansOwnAttributesAreNot()
    {
        const string Traces = """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeSpans":[{"spans":[
              {"name":"GET /","startTimeUnixNano":"1","attributes":[{"key":"http.method","value":{"stringValue":"GET"}}],"events":[
                {"timeUnixNano":"1733230547000000000","name":"feature_flag.evaluation","attributes":[{"key":"feature_flag.key","value":{"stringValue":"current"}}]},
                {"timeUnixNano":"1733230548000000000","name":"feature_flag","attributes":[{"key":"feature_flag.key","value":{"stringValue":"legacy"}}]},
                {"timeUnixNano":"1733230549000000000","name":"exception","attributes":[{"key":"feature_flag.key","value":{"stringValue":"not-a-flag"}}]}]}]}]}]}
            """;

        OtlpExport export = Read(Traces, OtlpSignal.Traces);

        Assert.Equal(["current", "legacy"], export.Events.Select(e => e.Key));
        Assert.Equal([1733230547L, 1733230548L], export.Events.Select(e => e.CreationDate));
        Assert.Equal(1, export.Ignored);
        Assert.All(export.Events, e => Assert.False(((FeatureEvent)e).Metadata!.ContainsKey("http.method")));
        Assert.Equal("api", ((FeatureEvent)export.Events[0]).Metadata!["service.name"].AsString());
    }

    [Fact]
    public void TheOtherSignalsField_IsIgnored()
    {
        string logs = LogTemplate.Replace("ATTRS", "", StringComparison.Ordinal);

        Assert.Empty(Read(logs, OtlpSignal.Traces).Events);
    }

    [Fact]
    public void ARecordsBytes_AreTheSpanOfItsJsonObject()
    {
        const string Record = """{"eventName":"feature_flag.evaluation","attributes":[{"key":"feature_flag.key","value":{"stringValue":"é"}}]}""";
        string json = $$"""{"resourceLogs":[{"scopeLogs":[{"logRecords":[ {{Record}} ]}]}]}""";

        Assert.Equal(Encoding.UTF8.GetByteCount(Record), Read(json).ExpandedBytes);
    }

    [Theory]
    [InlineData("""{"resourceLogs":{}}""", "resourceLogs: expected an array, got an object")]
    [InlineData("""{"resourceLogs":[1]}""", "resourceLogs[0]: expected an object, got a number")]
    [InlineData("""{"resourceLogs":[{"resource":[]}]}""", "resourceLogs[0].resource: expected an object, got an array")]
    [InlineData("""{"resourceLogs":[{"resource":{"attributes":[{"key":1}]}}]}""", "resourceLogs[0].resource.attributes[0].key: expected a string, got a number")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{},{"logRecords":[{},{},{},{"attributes":[{},{},{"key":"k","value":"v"}]}]}]}]}""",
        "resourceLogs[0].scopeLogs[1].logRecords[3].attributes[2].value: expected an object, got a string")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"-1"}]}]}]}""", "resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano: \"-1\" is not an unsigned 64-bit integer")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"18446744073709551616"}]}]}]}""", "resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano: \"18446744073709551616\" is not an unsigned 64-bit integer")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"observedTimeUnixNano":true}]}]}]}""", "resourceLogs[0].scopeLogs[0].logRecords[0].observedTimeUnixNano: expected an integer (a number or a string), got a boolean")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":{}}]}]}]}""", "resourceLogs[0].scopeLogs[0].logRecords[0].eventName: expected a string, got an object")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"intValue":"1.5"}}]}]}]}]}""", "attributes[0].value.intValue: \"1.5\" is not a 64-bit integer")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"intValue":1e19}}]}]}]}]}""", "attributes[0].value.intValue: 1e19 is not a 64-bit integer")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"boolValue":"true"}}]}]}]}]}""", "attributes[0].value.boolValue: expected a boolean, got a string")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"stringValue":1}}]}]}]}]}""", "attributes[0].value.stringValue: expected a string, got a number")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"doubleValue":"inf"}}]}]}]}]}""", "attributes[0].value.doubleValue: \"inf\" is not a double")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"doubleValue":1e400}}]}]}]}]}""", "attributes[0].value.doubleValue: 1e400 is out of the range of a double")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"bytesValue":[]}}]}]}]}]}""", "attributes[0].value.bytesValue: expected a string, got an array")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"arrayValue":{"values":{}}}}]}]}]}]}""", "attributes[0].value.arrayValue.values: expected an array, got an object")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{"kvlistValue":{"values":[{"value":{"arrayValue":[]}}]}}}]}]}]}]}""",
        "attributes[0].value.kvlistValue.values[0].value.arrayValue: expected an object, got an array")]
    public void WrongTypes_AreRefused_NamingTheFieldPath(string json, string message) =>
        Assert.EndsWith(message, Fails(json), StringComparison.Ordinal);

    [Fact]
    public void WrongTypesInTraces_AreRefused_NamingTheFieldPath()
    {
        Assert.Equal(
            "resourceSpans[0].scopeSpans[0].spans[1].events[0].name: expected a string, got a boolean",
            Fails("""{"resourceSpans":[{"scopeSpans":[{"spans":[{},{"events":[{"name":true}]}]}]}]}""", OtlpSignal.Traces));
        Assert.Equal(
            "resourceSpans[0].scopeSpans: expected an array, got a string",
            Fails("""{"resourceSpans":[{"scopeSpans":"x"}]}""", OtlpSignal.Traces));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"resourceLogs\"")]
    [InlineData("""{"resourceLogs":[]} {}""")]
    [InlineData("""{"resourceLogs":[],}""")]
    [InlineData("""{"resourceLogs":[] /* comment */}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"feature_flag.evaluation"]}]}]}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"feature_flag.evaluation"}""")]
    public void BodiesThatAreNotAJsonObject_AreRefused(string json) => Fails(json);

    [Fact]
    public void MalformedJson_IsReportedWhereItWasMet()
    {
        string message = Fails("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":tru}]}]}]}""");

        Assert.StartsWith("resourceLogs[0].scopeLogs[0].logRecords[0].eventName: the body is not valid JSON: ", message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesNestedToTheLimit_AreRead_AndOneLevelMoreIsRefused()
    {
        // The attribute's own value and MaxDepth levels inside it, as the protobuf reader allows.
        const int Levels = OtlpProtobufReader.MaxDepth + 1;
        Assert.Equal(Levels, Depth(Attribute(NestedArrays(Levels), "deep")));
        Assert.Equal(Levels, Depth(Attribute(NestedLists(Levels), "deep")));

        string json = LogTemplate.Replace("ATTRS", NestedLists(Levels + 1), StringComparison.Ordinal);
        Assert.EndsWith($"attribute values nest deeper than {OtlpProtobufReader.MaxDepth} levels", Fails(json), StringComparison.Ordinal);
        json = LogTemplate.Replace("ATTRS", NestedArrays(100_000), StringComparison.Ordinal);
        Assert.EndsWith($"attribute values nest deeper than {OtlpProtobufReader.MaxDepth} levels", Fails(json), StringComparison.Ordinal);

        // Skipped fields are not recursed into; the JSON reader's own depth bound applies to them.
        json = LogTemplate.Replace("ATTRS", """,{"key":"k","unknown":""" + new string('[', 100_000), StringComparison.Ordinal);
        Assert.Contains("not valid JSON", Fails(json), StringComparison.Ordinal);

        static string NestedArrays(int depth) =>
            $$""",{"key":"deep","value":{{string.Concat(Enumerable.Repeat("""{"arrayValue":{"values":[""", depth - 1))}}{"intValue":1}{{string.Concat(Enumerable.Repeat("]}}", depth - 1))}}}""";

        static string NestedLists(int depth) =>
            $$""",{"key":"deep","value":{{string.Concat(Enumerable.Repeat("""{"kvlistValue":{"values":[{"key":"k","value":""", depth - 1))}}{"intValue":1}{{string.Concat(Enumerable.Repeat("}]}}", depth - 1))}}}""";

        static int Depth(FlagValue value) => value.Kind switch
        {
            FlagValueKind.Array => 1 + Depth(value.AsArray()[0]),
            FlagValueKind.Object => 1 + Depth(value.AsObject()["k"]),
            _ => 1,
        };
    }

    [Fact]
    public void RecurringAttributeNamesAndShortStrings_AreShared()
    {
        string json = LogTemplate.Replace("ATTRS", """,{"key":"custom","value":{"stringValue":"on"}}""", StringComparison.Ordinal);
        var strings = new Utf8StringCache();

        FeatureEvent first = Single(OtlpJsonReader.Read(OtlpSignal.Logs, Encoding.UTF8.GetBytes(json), NewBuilder(strings)));
        FeatureEvent second = Single(OtlpJsonReader.Read(OtlpSignal.Logs, Encoding.UTF8.GetBytes(json), NewBuilder(strings)));

        Assert.Same(first.Metadata!.Keys.First(k => k == "custom"), second.Metadata!.Keys.First(k => k == "custom"));
        Assert.Same(first.Metadata["custom"].AsString(), second.Metadata["custom"].AsString());
        Assert.Same(first.Key, second.Key);
    }

    private const long Time = 1_733_230_547_728_000_123;

    /// <summary>Every attribute value kind, the library's mapping's attributes, and values that need escaping in JSON.</summary>
    private static readonly KeyValuePair<string, object?>[] RichAttributes =
    [
        OtlpRequests.Attribute("feature_flag.key", "new-checkout"),
        OtlpRequests.Attribute("feature_flag.result.variant", "on"),
        OtlpRequests.Attribute("feature_flag.result.value", new KeyValuePair<string, object?>[] { new("b", new object?[] { 1L, "x", false, null, -0.5 }), new("a", 2.5) }),
        OtlpRequests.Attribute("feature_flag.context.id", "user-\u00e9-\"quoted\"-\ud83d\ude00"),
        OtlpRequests.Attribute("feature_flag.version", "v7"),
        OtlpRequests.Attribute("feature_flag.provider.name", "flagd"),
        OtlpRequests.Attribute("feature_flag.result.reason", "DEFAULT"),
        OtlpRequests.Attribute("nan", double.NaN),
        OtlpRequests.Attribute("infinity", double.NegativeInfinity),
        OtlpRequests.Attribute("bytes", new byte[] { 0xfb, 0xff, 0x00, 0x3e }),
        OtlpRequests.Attribute("big", long.MinValue),
        OtlpRequests.Attribute("empty", null),
        OtlpRequests.Attribute("", "a nameless attribute is dropped"),
    ];

    [Fact]
    public void TheSameLogsRequest_InJsonAndInProtobuf_ReadsIntoTheSameEvents()
    {
        OtlpLogRecord[] records =
        [
            new("feature_flag.evaluation", Time, RichAttributes),
            new(null, Time, [OtlpRequests.Attribute("event.name", "feature_flag.evaluation"), OtlpRequests.Attribute("feature_flag.key", "by-attribute")]),
            new("feature_flag.evaluation", 0, OtlpRequests.Attribute("feature_flag.key", "observed")) { ObservedTimeUnixNano = 1_700_000_000_999_999_999 },
            new("feature_flag.evaluation", 0, OtlpRequests.Attribute("feature_flag.key", "arrival")),
            new("feature_flag.evaluation", Time, OtlpRequests.Attribute("feature_flag.result.variant", "keyless")),
            new("http.request", Time, OtlpRequests.Attribute("feature_flag.key", "other-event")),
            new(null, Time),
        ];

        OtlpExport fromProtobuf = OtlpProtobufReader.Read(OtlpSignal.Logs, OtlpRequests.Logs("checkout", records), NewBuilder());
        OtlpExport fromJson = OtlpJsonReader.Read(OtlpSignal.Logs, OtlpJsonRequests.Logs("checkout", records), NewBuilder());

        AssertSameEvents(fromProtobuf, fromJson, 4);
        Assert.Equal((1, 1, 2), (fromJson.Rejected, fromJson.RejectedItems, fromJson.Ignored));
        Assert.Equal("resource_logs[0].scope_logs[0].log_records[4] is a feature_flag.evaluation without feature_flag.key", fromProtobuf.FirstRejection);
        Assert.Equal("resourceLogs[0].scopeLogs[0].logRecords[4] is a feature_flag.evaluation without feature_flag.key", fromJson.FirstRejection);
    }

    [Fact]
    public void TheSameTracesRequest_InJsonAndInProtobuf_ReadsIntoTheSameEvents()
    {
        OtlpSpanEvent[][] spans =
        [
            [new("feature_flag.evaluation", Time, RichAttributes), new("exception", Time, OtlpRequests.Attribute("feature_flag.key", "not-a-flag"))],
            [new("feature_flag", Time, OtlpRequests.Attribute("feature_flag.key", "legacy"), OtlpRequests.Attribute("feature_flag.variant", "v"))],
            [new("feature_flag.evaluation", Time, OtlpRequests.Attribute("feature_flag.variant", "keyless")), new("feature_flag.evaluation", Time)],
        ];

        OtlpExport fromProtobuf = OtlpProtobufReader.Read(OtlpSignal.Traces, OtlpRequests.Traces(null, spans), NewBuilder());
        OtlpExport fromJson = OtlpJsonReader.Read(OtlpSignal.Traces, OtlpJsonRequests.Traces(null, spans), NewBuilder());

        AssertSameEvents(fromProtobuf, fromJson, 2);
        Assert.Equal((2, 1, 1), (fromJson.Rejected, fromJson.RejectedItems, fromJson.Ignored));
        Assert.Equal("resource_spans[0].scope_spans[0].spans[2] has a feature_flag.evaluation event without feature_flag.key", fromProtobuf.FirstRejection);
        Assert.Equal("resourceSpans[0].scopeSpans[0].spans[2] has a feature_flag.evaluation event without feature_flag.key", fromJson.FirstRejection);
    }

    private static void AssertSameEvents(OtlpExport fromProtobuf, OtlpExport fromJson, int count)
    {
        Assert.Equal(count, fromJson.Events.Count);
        Assert.Equal(fromProtobuf.Events.Count, fromJson.Events.Count);
        foreach ((ExportableEvent p, ExportableEvent j) in fromProtobuf.Events.Zip(fromJson.Events))
        {
            FeatureEvent expected = Assert.IsType<FeatureEvent>(p), actual = Assert.IsType<FeatureEvent>(j);
            Assert.Equal(
                (expected.Key, expected.Variation, expected.Value, expected.UserKey, expected.ContextKind, expected.Version, expected.Default, expected.Source, expected.CreationDate),
                (actual.Key, actual.Variation, actual.Value, actual.UserKey, actual.ContextKind, actual.Version, actual.Default, actual.Source, actual.CreationDate));
            Assert.Equal(expected.Metadata, actual.Metadata);
        }

        Assert.Equal((fromProtobuf.Rejected, fromProtobuf.RejectedItems, fromProtobuf.Ignored), (fromJson.Rejected, fromJson.RejectedItems, fromJson.Ignored));
    }

    [Fact]
    public void RecordsThatAreNotEvaluations_AllocateNothing_AndEvaluationsNoMoreThanFromProtobuf()
    {
        OtlpLogRecord other = new("http.request", Time, OtlpRequests.Attribute("http.method", "GET"), OtlpRequests.Attribute("http.status", 200L),
            OtlpRequests.Attribute("event.name", "http.request"), OtlpRequests.Attribute("list", new object?[] { 1.5, "x" }));
        OtlpLogRecord evaluation = new("feature_flag.evaluation", Time, OtlpRequests.Attribute("feature_flag.key", "k"),
            OtlpRequests.Attribute("feature_flag.result.variant", "on"), OtlpRequests.Attribute("feature_flag.result.value", true),
            OtlpRequests.Attribute("feature_flag.provider.name", "flagd"), OtlpRequests.Attribute("feature_flag.result.reason", "STATIC"));
        var strings = new Utf8StringCache();

        long fewOthers = Allocated(OtlpJsonRequests.Logs("svc", [.. Enumerable.Repeat(other, 10)]), OtlpJsonReader.Read);
        long manyOthers = Allocated(OtlpJsonRequests.Logs("svc", [.. Enumerable.Repeat(other, 1010)]), OtlpJsonReader.Read);
        long jsonEvaluations = Allocated(OtlpJsonRequests.Logs("svc", [.. Enumerable.Repeat(evaluation, 1010)]), OtlpJsonReader.Read) - fewOthers;
        long protobufEvaluations = Allocated(OtlpRequests.Logs("svc", [.. Enumerable.Repeat(evaluation, 1010)]), OtlpProtobufReader.Read)
            - Allocated(OtlpRequests.Logs("svc", [.. Enumerable.Repeat(other, 10)]), OtlpProtobufReader.Read);

        Assert.True(manyOthers - fewOthers < 1000, $"{manyOthers - fewOthers} bytes for 1000 more records of another kind");
        Assert.True(jsonEvaluations <= protobufEvaluations * 1.05, $"{jsonEvaluations / 1000} bytes per evaluation from JSON, {protobufEvaluations / 1000} from protobuf");

        long Allocated(byte[] body, Func<OtlpSignal, ReadOnlySpan<byte>, OtlpEventBuilder, OtlpExport> read)
        {
            _ = read(OtlpSignal.Logs, body, NewBuilder(strings)); // warms the string cache and the code
            var builder = NewBuilder(strings);
            long before = GC.GetAllocatedBytesForCurrentThread();
            _ = read(OtlpSignal.Logs, body, builder);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    [Fact]
    public void MutatedBodies_AreReadOrRefusedWithAFormatError_NeverAnythingElse()
    {
        const string Seed = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeLogs":[{"logRecords":[
              {"timeUnixNano":"1733230547000000000","observedTimeUnixNano":1733230548000000000,"eventName":"feature_flag.evaluation","traceId":"5b8efff798038103d269b633813fc60c",
               "attributes":[{"key":"feature_flag.key","value":{"stringValue":"f"}},{"key":"feature_flag.result.value","value":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"},{"doubleValue":"NaN"},{"boolValue":true},{"bytesValue":"AAE="}]}}}]}}}]},
              {"eventName":"other","body":{"stringValue":"x"}}]}]}],
             "resourceSpans":[{"scopeSpans":[{"spans":[{"events":[{"name":"feature_flag","timeUnixNano":1,"attributes":[{"key":"feature_flag.key","value":{"stringValue":"s"}}]}]}]}]}]}
            """;
        byte[] seed = Encoding.UTF8.GetBytes(Seed);
        byte[] interesting = "{}[]\",:\\0-1e9.tfn \u00e9\uD83D\uDE00"u8.ToArray();
        var random = new Random(20261207);
        int read = 0, refused = 0;
        var strings = new Utf8StringCache();

        for (int i = 0; i < 3000; i++)
        {
            byte[] body = BodyMutations.Mutate(seed, interesting, random);
            OtlpSignal signal = i % 2 == 0 ? OtlpSignal.Logs : OtlpSignal.Traces;
            try
            {
                _ = OtlpJsonReader.Read(signal, body, NewBuilder(strings));
                read++;
            }
            catch (OtlpFormatException)
            {
                refused++;
            }
        }

        Assert.True(read > 100, $"some mutations stay valid ({read})");
        Assert.True(refused > 100, $"most mutations break the body ({refused})");
        Assert.Single(OtlpJsonReader.Read(OtlpSignal.Logs, seed, NewBuilder(strings)).Events);
    }
}

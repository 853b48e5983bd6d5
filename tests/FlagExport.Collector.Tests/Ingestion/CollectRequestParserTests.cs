using System.Text;
using FlagExport.Collector.Ingestion;
using FlagExport.Collector.Tests.Ingestion.Reference;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>
/// The streaming parser reaches the outcome the whole-document parser reached, byte for byte, whatever the body and
/// however it is cut into reads.
/// </summary>
public sealed class CollectRequestParserTests
{
    private static readonly string[] Seeds =
    [
        """
        {"meta":{"env":"prod","n":1.5,"ok":true},"events":[
          {"kind":"feature","contextKind":"user","userKey":"u1","creationDate":1733230547728,"key":"f","variation":"v","value":{"a":[1,"x",null]},"default":false,"version":"v1","source":"SDK"},
          {"kind":"tracking","userKey":"u2","creationDate":1680246020,"key":"t","evaluationContext":{"k":"é"},"trackingEventDetails":{"d":2}}
        ]}
        """,
        """
        {"events":[{"kind":"feature","userKey":"u\u00e9\ud83d\ude00","key":"k","value":9007199254740993,"metadata":{"b":1,"a":2,"b":3}},
          {"KIND":"feature","Key":"x","value":[1.0,-0,1e300,"\ud800"],"metadata":{"z":{"y":[true,false]}}},{"kind":"tracking","creationDate":1.5}],
         "meta":{"provider":"open-feature-js-sdk"},"other":{"deep":[[[{"a":1}]]]}}
        """,
        """{"events":[{"userKey":42},{"creationDate":"x"},{"value":{"a":[1e400]}}],"Events":[{"key":"last wins"}],"META":null}""",
        """[{"events":[]}]""",
        """{"meta":"x","events":[1,{"key":"a"}]}""",
    ];

    /// <summary>A body whose one event is far larger than the read buffer, so that it grows and is re-read whole.</summary>
    private static readonly string LargeEvent =
        $$$"""{"\udc00":0,"events":[{"key":"big","value":"{{{new string('x', 300_000)}}}","metadata":{"list":[{{{string.Join(",", Enumerable.Range(0, 20_000))}}}]}},{"key":"after"}]}""";

    public static TheoryData<int> SeedIndexes => [.. Enumerable.Range(0, Seeds.Length)];

    [Fact]
    public void AnEventLargerThanTheBuffer_AndMalformedLargeTails_GiveTheReferenceOutcome()
    {
        byte[] body = Encoding.UTF8.GetBytes(LargeEvent);
        var random = new Random(5);
        for (int i = 0; i < 12; i++)
        {
            byte[] mutated = i == 0 ? body : BodyMutations.Mutate(body, "{}[]\",:x"u8.ToArray(), random);
            string expected = ReferenceOutcome(mutated);
            Assert.Equal(expected, Outcome(BodyParsing.Parse(mutated, new Random(i))));
            Assert.Equal(expected, Outcome(BodyParsing.Parse(mutated)));
        }

        Assert.Equal(2, BodyParsing.Parse(body, new Random(1)).Request!.Events.Count);
    }

    [Fact]
    public void TheLimit_AlsoBoundsTheBuffer_ForOneValueAsLargeAsTheBody()
    {
        string head = """{"events":[{"value":" """, tail = "\"}]}";
        string atLimit = head + new string('v', 1_000_000 - head.Length - tail.Length) + tail;

        Assert.Equal(200, BodyParsing.Parse(atLimit, new Random(2), limit: 1_000_000).StatusCode);
        Assert.Equal(413, BodyParsing.Parse(atLimit + " ", new Random(2), limit: 1_000_000).StatusCode);
    }

    [Theory]
    [MemberData(nameof(SeedIndexes))]
    public void MutatedBodies_GiveTheReferenceOutcome_WholeAndInPieces(int seed)
    {
        var random = new Random(20261202 + seed);
        byte[] original = Encoding.UTF8.GetBytes(Seeds[seed]);
        byte[] interesting = "{}[]\",:\\0-1e9.tfnu \u00e9\uD83D\uDE00"u8.ToArray();
        int accepted = 0, refused = 0;
        for (int i = 0; i < 400; i++)
        {
            byte[] body = i == 0 ? original : BodyMutations.Mutate(original, interesting, random);
            string expected = ReferenceOutcome(body);
            Assert.Equal(expected, Outcome(BodyParsing.Parse(body)));
            Assert.Equal(expected, Outcome(BodyParsing.Parse(body, new Random(i))));
            _ = expected.StartsWith("400", StringComparison.Ordinal) ? refused++ : accepted++;
        }

        // The last two seeds are refused as they are; mutations of the others should give both outcomes.
        Assert.True(refused > 10 && (accepted > 10 || seed >= Seeds.Length - 2), $"{accepted} accepted, {refused} refused");
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC3 })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xC3, 0xA9, 0x80, 0x80, 0xF8 })]
    public void InvalidUtf8_IsReplacedAsWhenDecodingTheWholeBody_WhereverTheReadsCutIt(byte[] invalid)
    {
        byte[] body = [.. "{\"events\":[{\"userKey\":\"a"u8, .. invalid, .. "b\",\"key\":\""u8, .. invalid, .. "\"}],\"x\":"u8, .. invalid, .. "}"u8];
        string expected = ReferenceOutcome(body);
        for (int seed = 0; seed < 50; seed++)
        {
            Assert.Equal(expected, Outcome(BodyParsing.Parse(body, new Random(seed))));
        }

        byte[] valid = [.. "{\"events\":[{\"userKey\":\"a"u8, .. invalid, .. "b\"}]}"u8];
        CollectBody parsed = BodyParsing.Parse(valid, new Random(1));
        Assert.Equal(Encoding.UTF8.GetString(valid[23..^4]), parsed.Request!.Events[0].UserKey);
    }

    [Fact]
    public void Meta_AfterTheEvents_StillReplacesTheirMetadata()
    {
        CollectBody body = BodyParsing.Parse("""{"events":[{"metadata":{"own":1}},{"kind":"tracking"}],"meta":{"provider":"js"}}""");

        var feature = (FeatureEvent)body.Request!.Events[0];
        Assert.Equal("js", feature.Metadata!["provider"].AsString());
        Assert.False(feature.Metadata.ContainsKey("own"));
    }

    [Theory]
    [InlineData("""{"meta":{"hostname":"sender"},"events":[{"metadata":{"own":1}},{"key":"none"},{"kind":"tracking"}]}""")]
    [InlineData("""{"events":[{"metadata":{"own":1}},{"key":"none"},{"kind":"tracking"}],"meta":{"hostname":"sender"}}""")]
    public void KeepingEventMetadata_EachFeatureEventKeepsItsOwn_OrNone_WhereverMetaIs(string json)
    {
        var parser = new CollectRequestParser(new FlagExport.Json.Utf8StringCache(), keepEventMetadata: true);
        _ = parser.Parse(Encoding.UTF8.GetBytes(json), isFinalBlock: true);

        Assert.True(parser.TryComplete(out CollectRequest? request, out string? error), error);
        var own = (FeatureEvent)request.Events[0];
        Assert.Equal(["own"], own.Metadata!.Keys);
        Assert.Null(((FeatureEvent)request.Events[1]).Metadata);
        Assert.IsType<TrackingEvent>(request.Events[2]);
    }

    [Fact]
    public void KeepingEventMetadata_AMetaThatIsNotAnObject_IsStillRefused()
    {
        var parser = new CollectRequestParser(new FlagExport.Json.Utf8StringCache(), keepEventMetadata: true);
        _ = parser.Parse("""{"meta":3,"events":[{"key":"k"}]}"""u8, isFinalBlock: true);

        Assert.False(parser.TryComplete(out _, out string? error));
        Assert.Equal("\"meta\" must be a JSON object; got a number.", error);
    }

    [Theory]
    [InlineData("""{"events":5,"meta":3}""", "\"events\" must be an array; got a number.")]
    [InlineData("""{"meta":3,"events":[1]}""", "\"meta\" must be a JSON object; got a number.")]
    [InlineData("""{"events":[1,{},[2]],"meta":{}}""", "events[0] must be a JSON object; got a number.")]
    [InlineData("""{"events":[{}, "x"]}""", "events[1] must be a JSON object; got a string.")]
    [InlineData("""{"meta":{"a":1e999},"events":[]}""", "\"meta\" property 'a': number 1e999 is out of range.")]
    [InlineData("""{"meta":{}}""", "The request body has no \"events\" array; expected {\"meta\": {...}, \"events\": [...]}.")]
    [InlineData("""{"events":[1] , ]""", "The request body is not valid JSON: ']' is an invalid start of a property name. Expected a '\"'. LineNumber: 0 | BytePositionInLine: 16.")]
    public void Refusals_AreReportedInTheRelayProxysOrder(string json, string expected) =>
        Assert.Equal($"400 {expected}", Outcome(BodyParsing.Parse(json, new Random(3))));

    [Fact]
    public void ALargeBody_IsReadInAFewPieces_IntoExactlyItsEvents()
    {
        var json = new StringBuilder("""{"meta":{"provider":"test"},"events":[""");
        for (int i = 0; i < 20_000; i++)
        {
            _ = json.Append(i == 0 ? "" : ",").Append($$"""{"kind":"feature","userKey":"user-{{i}}","creationDate":{{1733230547 + i}},"key":"flag-{{i % 50}}","variation":"v{{i % 3}}","value":{{i}},"default":false,"version":"1"}""");
        }

        byte[] body = Encoding.UTF8.GetBytes(json.Append("]}").ToString());
        CollectBody parsed = BodyParsing.Parse(body, new Random(7));

        Assert.Equal(ReferenceOutcome(body), Outcome(parsed));
        Assert.Equal(20_000, parsed.Request!.Events.Count);
        Assert.Equal("user-19999", parsed.Request.Events[^1].UserKey);
    }

    [Fact]
    public void Parsing_AllocatesAtMost64BytesPerEvent_BeyondTheEventAndItsUserKey()
    {
        const int Count = 2_000;
        var json = new StringBuilder("""{"events":[""");
        for (int i = 0; i < Count; i++)
        {
            string value = (i % 3) switch { 0 => "true", 1 => "\"variant-b\"", _ => "42" };
            _ = json.Append(i == 0 ? "" : ",").Append($$"""{"contextKind":"user","kind":"feature","creationDate":{{1733230547 + i}},"default":false,"key":"flag-{{i % 12:D2}}","value":{{value}},"variation":"v{{i % 3}}","userKey":"{{i:D8}}-20d8-40cc-8500-fee99b569345","source":"PROVIDER_CACHE"}""");
        }

        byte[] body = Encoding.UTF8.GetBytes(json.Append("""],"meta":{"provider":"open-feature-js-sdk"}}""").ToString());
        var strings = new FlagExport.Json.Utf8StringCache();
        _ = ParseAll(body, strings); // the repeated strings are cached from here on, as in a running collector

        long before = GC.GetAllocatedBytesForCurrentThread();
        CollectRequest request = ParseAll(body, strings);
        long parsing = GC.GetAllocatedBytesForCurrentThread() - before;

        // What the events themselves take: the event objects and their user keys, allocated the same way.
        before = GC.GetAllocatedBytesForCurrentThread();
        var events = new ExportableEvent[Count];
        for (int i = 0; i < Count; i++)
        {
            events[i] = new FeatureEvent { UserKey = new string(request.Events[i].UserKey.AsSpan()) };
        }

        long own = GC.GetAllocatedBytesForCurrentThread() - before - (events.Length * 8L) - 24;
        Assert.Equal(Count, request.Events.Count);
        Assert.True((parsing - own) / Count <= 64, $"{(parsing - own) / (double)Count:F1} bytes per event beyond the event ({own / (double)Count:F1})");
    }

    private static CollectRequest ParseAll(byte[] body, FlagExport.Json.Utf8StringCache strings)
    {
        var parser = new CollectRequestParser(strings);
        _ = parser.Parse(body, isFinalBlock: true);
        Assert.True(parser.TryComplete(out CollectRequest? request, out string? error), error);
        return request;
    }

    /// <summary>The reference parser's outcome, written as <see cref="Outcome"/> writes it.</summary>
    private static string ReferenceOutcome(byte[] body)
    {
        if (!ReferenceCollectRequest.TryParse(body, out ReferenceCollectRequest? request, out string? error))
        {
            return $"400 {error}";
        }

        return Describe(request.Events, request.Rejected);
    }

    private static string Outcome(CollectBody body) =>
        body.Request is { } request ? Describe(request.Events, request.Rejected) : $"{body.StatusCode} {body.Error}";

    private static string Describe(IReadOnlyList<ExportableEvent> events, IReadOnlyList<RejectedEvent> rejected) =>
        "200\n" + string.Join("\n", events.Select(BodyParsing.Describe)) + "\n" + string.Join("\n", rejected.Select(r => $"{r.Index}: {r.Reason}"));
}

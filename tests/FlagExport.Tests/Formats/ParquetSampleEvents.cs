namespace FlagExport.Tests.Formats;

/// <summary>A feature event and what a Parquet reader must find for it in the columns computed by the encoder.</summary>
/// <param name="Event">The event encoded; its string fields are stored as they are.</param>
/// <param name="Value">The <c>value</c> column: the Go JSON of the value, written out by hand.</param>
/// <param name="Metadata">The <c>metadata</c> map entries in file order (sorted by UTF-8 key), values as stored.</param>
public sealed record ExpectedFeatureRow(FeatureEvent Event, string Value, KeyValuePair<string, string>[] Metadata);

/// <summary>A tracking event and the map entries a Parquet reader must find for it.</summary>
public sealed record ExpectedTrackingRow(
    TrackingEvent Event, KeyValuePair<string, string>[] EvaluationContext, KeyValuePair<string, string>[] TrackingEventDetails);

/// <summary>
/// Events covering every kind of value and the awkward strings, with the stored text written out by hand, so that
/// Parquet round-trip tests do not compute their expectations with the code under test.
/// </summary>
internal static class ParquetSampleEvents
{
    /// <summary>A string that needs every kind of Go escape, plus non-ASCII kept raw.</summary>
    public const string AwkwardText = "a\"b\\c\n\t<>&é日本😀\u2028";

    /// <summary>The Go JSON of <see cref="AwkwardText"/>.</summary>
    public const string AwkwardJson = "\"a\\\"b\\\\c\\n\\t\\u003c\\u003e\\u0026é日本😀\\u2028\"";

    public static ExpectedFeatureRow[] Features() =>
    [
        Row(new FeatureEvent
        {
            ContextKind = "anonymousUser", UserKey = "ABCD", CreationDate = 1617970547, Key = "random-key",
            Variation = "Default", Value = "YO", Source = "SERVER",
        }, "\"YO\""),
        Row(new FeatureEvent
        {
            ContextKind = "anonymousUser", UserKey = "EFGH", CreationDate = 1617970701, Key = "random-key",
            Variation = "Default", Value = "YO2", Version = "127", Source = "SERVER",
        }, "\"YO2\""),
        Row(new FeatureEvent { UserKey = "null-value", CreationDate = 1, Key = "k", Variation = "off", Value = FlagValue.Null, Default = true }, "null"),
        Row(new FeatureEvent { UserKey = "bool", CreationDate = 2, Key = "k", Variation = "on", Value = true }, "true"),
        Row(new FeatureEvent { UserKey = "bool", CreationDate = 2, Key = "k", Variation = "off", Value = false }, "false"),
        Row(new FeatureEvent { UserKey = "int", CreationDate = -3, Key = "k", Variation = "big", Value = 123456789012L }, "123456789012"),
        Row(new FeatureEvent { UserKey = "float", CreationDate = long.MaxValue, Key = "k", Variation = "v", Value = 1.5 }, "1.5"),
        Row(new FeatureEvent { UserKey = "float", CreationDate = 0, Key = "k", Variation = "v", Value = 1e21 }, "1e+21"),
        Row(new FeatureEvent { UserKey = "float", CreationDate = 0, Key = "k", Variation = "v", Value = 0.1 }, "0.1"),
        Row(new FeatureEvent { UserKey = "escapes", CreationDate = 4, Key = "k", Variation = "v", Value = AwkwardText }, AwkwardJson),
        Row(new FeatureEvent
        {
            UserKey = "nested", CreationDate = 5, Key = "json-key", Variation = "object",
            Value = FlagValue.FromObject(new Dictionary<string, FlagValue>
            {
                ["b"] = FlagValue.FromArray([1, "x", FlagValue.Null, true]),
                ["a"] = FlagValue.FromObject(new Dictionary<string, FlagValue> { ["z"] = 1.25, ["<"] = "&" }),
            }),
        }, """{"a":{"\u003c":"\u0026","z":1.25},"b":[1,"x",null,true]}"""),
        Row(new FeatureEvent
        {
            UserKey = "array", CreationDate = 6, Key = "k", Variation = "v",
            Value = FlagValue.FromArray([1, 2.5, "s", FlagValue.FromArray([])]),
        }, """[1,2.5,"s",[]]"""),
        Row(new FeatureEvent
        {
            ContextKind = "user", UserKey = "metadata", CreationDate = 7, Key = "k", Variation = "v", Value = "x",
            Source = "PROVIDER_CACHE", Version = "v1.0.0",
            Metadata = new Dictionary<string, FlagValue>
            {
                ["env"] = "prod", ["count"] = 3, ["ratio"] = 0.5, ["flag"] = false, ["nothing"] = FlagValue.Null,
                ["obj"] = FlagValue.FromObject(new Dictionary<string, FlagValue> { ["k"] = "v" }),
                ["list"] = FlagValue.FromArray([1, "a"]), ["empty"] = "", ["clé"] = AwkwardText,
            },
        }, "\"x\"",
            ("clé", AwkwardText), ("count", "3"), ("empty", ""), ("env", "prod"), ("flag", "false"),
            ("list", """[1,"a"]"""), ("nothing", "null"), ("obj", """{"k":"v"}"""), ("ratio", "0.5")),
        Row(new FeatureEvent
        {
            UserKey = "empty-metadata", CreationDate = 8, Key = "k", Variation = "v", Value = 0,
            Metadata = new Dictionary<string, FlagValue>(),
        }, "0"),
        Row(new FeatureEvent
        {
            UserKey = "one-entry", CreationDate = 9, Key = "k", Variation = "v", Value = -1,
            Metadata = new Dictionary<string, FlagValue> { ["evaluatedAt"] = 1617970547 },
        }, "-1", ("evaluatedAt", "1617970547")),
        Row(new FeatureEvent
        {
            Kind = "", ContextKind = "", UserKey = "", CreationDate = 0, Key = "", Variation = "", Value = "",
            Version = "", Source = "",
        }, "\"\""),
        Row(new FeatureEvent
        {
            ContextKind = "anonymousUser", UserKey = "ünïcödé-😀", CreationDate = 10, Key = "clé", Variation = "variation-é",
            Value = "日本", Version = "é", Source = "SERVER",
        }, "\"日本\""),
    ];

    public static ExpectedTrackingRow[] Trackings() =>
    [
        new(new TrackingEvent
        {
            ContextKind = "user", UserKey = "ABCD", CreationDate = 1617970547, Key = "checkout",
            EvaluationContext = new Dictionary<string, FlagValue> { ["targetingKey"] = "ABCD", ["age"] = 42, ["admin"] = true },
            TrackingEventDetails = new Dictionary<string, FlagValue> { ["amount"] = 12.5, ["currency"] = "EUR", ["items"] = FlagValue.FromArray(["a", "b"]) },
        },
            Pairs(("admin", "true"), ("age", "42"), ("targetingKey", "ABCD")),
            Pairs(("amount", "12.5"), ("currency", "EUR"), ("items", """["a","b"]"""))),
        new(new TrackingEvent { ContextKind = "anonymousUser", UserKey = "EFGH", CreationDate = 1617970701, Key = "click" }, [], []),
        new(new TrackingEvent
        {
            UserKey = "", CreationDate = 3, Key = "escapes",
            EvaluationContext = new Dictionary<string, FlagValue> { ["text"] = AwkwardText, ["none"] = FlagValue.Null },
            TrackingEventDetails = new Dictionary<string, FlagValue> { ["nested"] = FlagValue.FromObject(new Dictionary<string, FlagValue> { ["q"] = AwkwardText }) },
        },
            Pairs(("none", "null"), ("text", AwkwardText)),
            Pairs(("nested", "{\"q\":" + AwkwardJson + "}"))),
    ];

    /// <summary><paramref name="count"/> events cycling through a few values per column, as real traffic does.</summary>
    public static FeatureEvent[] Repetitive(int count)
    {
        FlagObject[] metadata =
        [
            FlagObject.Create(new Dictionary<string, FlagValue> { ["env"] = "prod", ["version"] = 3 }),
            FlagObject.Create(new Dictionary<string, FlagValue> { ["env"] = "staging", ["region"] = "eu-west-1" }),
            FlagObject.Empty,
        ];
        string[] userKeys = [.. Enumerable.Range(0, 50).Select(i => $"user-{i}")];
        FlagValue[] values = ["on", "off", true, 42, FlagValue.FromObject(new Dictionary<string, FlagValue> { ["color"] = "red" })];
        var events = new FeatureEvent[count];
        for (int i = 0; i < count; i++)
        {
            events[i] = new FeatureEvent
            {
                ContextKind = i % 3 == 0 ? "anonymousUser" : "user",
                UserKey = userKeys[i % userKeys.Length],
                CreationDate = 1617970547 + (i / 100),
                Key = i % 2 == 0 ? "new-checkout" : "dark-mode",
                Variation = i % 5 == 0 ? "Default" : "enabled",
                Value = values[i % values.Length],
                Default = i % 5 == 0,
                Version = i % 4 == 0 ? "" : "12",
                Source = i % 7 == 0 ? "PROVIDER_CACHE" : "SERVER",
                Metadata = metadata[i % metadata.Length],
            };
        }

        return events;
    }

    private static ExpectedFeatureRow Row(FeatureEvent e, string value, params (string Key, string Value)[] metadata) =>
        new(e, value, Pairs(metadata));

    private static KeyValuePair<string, string>[] Pairs(params (string Key, string Value)[] pairs) =>
        [.. pairs.Select(p => KeyValuePair.Create(p.Key, p.Value))];
}

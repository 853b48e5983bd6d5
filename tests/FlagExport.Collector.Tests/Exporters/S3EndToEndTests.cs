using System.Net;
using System.Text;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Exporters;

/// <summary>Events posted by a client arrive in the real S3 server, in each format, from one or several collectors.</summary>
public sealed class S3EndToEndTests : IAsyncDisposable
{
    private readonly List<(S3Server Server, string Prefix)> _written = [];

    private const string User = "94a25909-20d8-40cc-8500-fee99b569345";

    private const string Payload = $$$"""
        {
          "meta": {"environment": "production", "timestamp": 1680246000, "debug": true},
          "events": [
            {"kind": "feature", "contextKind": "user", "userKey": "{{{User}}}", "creationDate": 1733230547728, "key": "my-feature-flag",
             "variation": "admin-variation", "value": "string", "default": false, "version": "v1.0.0"},
            {"kind": "tracking", "contextKind": "user", "userKey": "{{{User}}}", "creationDate": 1680246020, "key": "checkout",
             "evaluationContext": {"targetingKey": "{{{User}}}"}, "trackingEventDetails": {"amount": 9.5}}
          ]
        }
        """;

    [Fact]
    public async Task JsonLines_ArriveInS3_ByteForByteAsGoFeatureFlagWritesThem()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = Track(s3, S3Server.NewPrefix("json"));

        (string feature, string tracking) = await PostAndReadAsync(s3, prefix, "json");

        Assert.Equal(
            $$$"""{"kind":"feature","contextKind":"user","userKey":"{{{User}}}","creationDate":1733230547,"key":"my-feature-flag","variation":"admin-variation","value":"string","default":false,"version":"v1.0.0","source":"PROVIDER_CACHE","metadata":{"debug":true,"environment":"production","timestamp":1680246000}}""" + "\n",
            feature);
        Assert.Equal(
            $$$"""{"kind":"tracking","contextKind":"user","userKey":"{{{User}}}","creationDate":1680246020,"key":"checkout","evaluationContext":{"targetingKey":"{{{User}}}"},"trackingEventDetails":{"amount":9.5}}""" + "\n",
            tracking);
    }

    [Fact]
    public async Task Csv_ArrivesInS3_WithTheDefaultTemplates()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = Track(s3, S3Server.NewPrefix("csv"));

        (string feature, string tracking) = await PostAndReadAsync(s3, prefix, "csv");

        Assert.Equal($"feature;user;{User};1733230547;my-feature-flag;admin-variation;string;false;PROVIDER_CACHE\n", feature);
        Assert.Equal($$"""tracking;user;{{User}};1680246020;checkout;{"targetingKey":"{{User}}"};{"amount":9.5}""" + "\n", tracking);
    }

    /// <summary>Feature events with every kind of value, and request metadata with every kind of JSON value.</summary>
    private const string ParquetPayload = $$$"""
        {
          "meta": {"environment": "production", "timestamp": 1680246000, "debug": true, "ratio": 0.25, "nothing": null,
                   "nested": {"tags": ["a", "b"], "n": 1}},
          "events": [
            {"kind": "feature", "contextKind": "user", "userKey": "{{{User}}}", "creationDate": 1733230547728, "key": "my-feature-flag",
             "variation": "admin-variation", "value": "string", "default": false, "version": "v1.0.0"},
            {"kind": "feature", "contextKind": "anonymousUser", "userKey": "anonymous-2", "creationDate": 1733230548, "key": "checkout-colors",
             "variation": "red", "value": {"color": "red", "sizes": [1, 2.5], "on": true}, "default": true, "version": "", "source": "SERVER"},
            {"kind": "feature", "contextKind": "user", "userKey": "user-3", "creationDate": 1733230549, "key": "ratio",
             "variation": "high", "value": 3.75, "default": false, "version": "7"},
            {"kind": "feature", "contextKind": "user", "userKey": "user-4", "creationDate": 1733230550, "key": "kill-switch",
             "variation": "SdkDefault", "value": false, "default": true},
            {"kind": "feature", "contextKind": "user", "userKey": "user-5", "creationDate": 1733230551, "key": "nothing",
             "variation": "none", "value": null, "default": true, "version": "v2"},
            {"kind": "tracking", "contextKind": "user", "userKey": "{{{User}}}", "creationDate": 1680246020, "key": "checkout",
             "evaluationContext": {"targetingKey": "{{{User}}}", "plan": "pro", "age": 42},
             "trackingEventDetails": {"amount": 9.5, "currency": "EUR"}}
          ]
        }
        """;

    [Fact]
    public async Task Parquet_ArrivesInS3_WithEveryColumnOfEveryRow_AsAnIndependentReaderReadsIt()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = Track(s3, S3Server.NewPrefix("parquet"));
        await using TestCollector collector = await StartAsync(s3, prefix, "parquet");
        Assert.Equal("""{"ingestedContentCount":6}""", await (await collector.PostAsync(ParquetPayload)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        await collector.StopAsync();

        (string featureKey, byte[] features) = Assert.Single(await s3.ReadAllAsync(prefix + "features/"));
        (string trackingKey, byte[] tracking) = Assert.Single(await s3.ReadAllAsync(prefix + "tracking/"));
        Assert.EndsWith(".parquet", featureKey, StringComparison.Ordinal);
        Assert.EndsWith(".parquet", trackingKey, StringComparison.Ordinal);

        // go-feature-flag's columns and types, and no other, as DuckDB's own Parquet reader sees them.
        Assert.Equal(
            [
                "kind VARCHAR", "contextKind VARCHAR", "userKey VARCHAR", "creationDate BIGINT", "key VARCHAR", "variation VARCHAR",
                "value VARCHAR", "default BOOLEAN", "version VARCHAR", "source VARCHAR", "metadata MAP(VARCHAR, VARCHAR)",
            ],
            DuckDbParquet.Query(features, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({file}))").Select(r => $"{r[0]} {r[1]}"));
        Assert.Equal(
            [
                "kind VARCHAR", "contextKind VARCHAR", "userKey VARCHAR", "creationDate BIGINT", "key VARCHAR",
                "evaluationContext MAP(VARCHAR, VARCHAR)", "trackingEventDetails MAP(VARCHAR, VARCHAR)",
            ],
            DuckDbParquet.Query(tracking, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({file}))").Select(r => $"{r[0]} {r[1]}"));

        // Every column of every row, in the order posted. The value column is the JSON of the value; map values are
        // strings as they are and the JSON of anything else (the request's meta replaces each event's metadata).
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["debug"] = "true", ["environment"] = "production", ["nested"] = """{"n":1,"tags":["a","b"]}""", ["nothing"] = "null",
            ["ratio"] = "0.25", ["timestamp"] = "1680246000",
        };
        Assert.Equal(
            [
                Row("feature", "user", User, 1733230547L, "my-feature-flag", "admin-variation", "\"string\"", false, "v1.0.0", "PROVIDER_CACHE", metadata),
                Row("feature", "anonymousUser", "anonymous-2", 1733230548L, "checkout-colors", "red", """{"color":"red","on":true,"sizes":[1,2.5]}""", true, "", "SERVER", metadata),
                Row("feature", "user", "user-3", 1733230549L, "ratio", "high", "3.75", false, "7", "PROVIDER_CACHE", metadata),
                Row("feature", "user", "user-4", 1733230550L, "kill-switch", "SdkDefault", "false", true, "", "PROVIDER_CACHE", metadata),
                Row("feature", "user", "user-5", 1733230551L, "nothing", "none", "null", true, "v2", "PROVIDER_CACHE", metadata),
            ],
            DuckDbParquet.Query(features, """
                SELECT kind, contextKind, userKey, creationDate, key, variation, value, "default", version, source,
                       map_keys(metadata), map_values(metadata)
                FROM read_parquet({file}, file_row_number = true) ORDER BY file_row_number
                """).Select(r => Row([.. r[..^2], Map(r[^2], r[^1])])));
        Assert.Equal(
            [
                Row("tracking", "user", User, 1680246020L, "checkout",
                    new SortedDictionary<string, string>(StringComparer.Ordinal) { ["age"] = "42", ["plan"] = "pro", ["targetingKey"] = User },
                    new SortedDictionary<string, string>(StringComparer.Ordinal) { ["amount"] = "9.5", ["currency"] = "EUR" }),
            ],
            DuckDbParquet.Query(tracking, """
                SELECT kind, contextKind, userKey, creationDate, key, map_keys(evaluationContext), map_values(evaluationContext),
                       map_keys(trackingEventDetails), map_values(trackingEventDetails)
                FROM read_parquet({file}, file_row_number = true) ORDER BY file_row_number
                """).Select(r => Row([.. r[..5], Map(r[5], r[6]), Map(r[7], r[8])])));
    }

    /// <summary>A row as text with each value's type (a string "1" is not the number 1), so that rows compare readably.</summary>
    private static string Row(params object?[] values) => string.Join(" | ", values.Select(v => v switch
    {
        null => "null",
        SortedDictionary<string, string> map => "map{" + string.Join(", ", map.Select(e => $"{e.Key}={e.Value}")) + "}",
        string text => $"'{text}'",
        _ => $"{v.GetType().Name} {Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)}",
    }));

    /// <summary>A map read as its keys and values lists, sorted by key: map entries have no order in Go.</summary>
    private static SortedDictionary<string, string> Map(object? keys, object? values)
    {
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((object? key, object? value) in ((System.Collections.IList)keys!).Cast<object?>().Zip(((System.Collections.IList)values!).Cast<object?>()))
        {
            map.Add((string)key!, (string)value!);
        }

        return map;
    }

    [Fact]
    public async Task SeveralCollectors_WritingToOneBucketAndPath_WriteDistinctObjects()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = Track(s3, S3Server.NewPrefix("instances"));
        var collectors = new List<TestCollector>();
        for (int i = 0; i < 3; i++)
        {
            Dictionary<string, string?> settings = s3.Exporter(0, prefix, "json");
            settings["exporters:0:filename"] = "flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}"; // the relay proxy's: same name in one second
            collectors.Add(await TestCollector.StartAsync(settings, fileExporters: false));
        }

        try
        {
            for (int i = 0; i < collectors.Count; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await collectors[i].PostAsync($$"""{"events":[{"kind":"feature","key":"from-{{i}}"}]}""")).StatusCode);
            }

            await Task.WhenAll(collectors.Select(c => c.StopAsync()));
        }
        finally
        {
            foreach (TestCollector collector in collectors)
            {
                await collector.DisposeAsync();
            }
        }

        SortedDictionary<string, byte[]> objects = await s3.ReadAllAsync(prefix);
        Assert.Equal(3, objects.Count);
        string all = string.Concat(objects.Values.Select(Encoding.UTF8.GetString));
        Assert.All(Enumerable.Range(0, 3), i => Assert.Contains($"\"key\":\"from-{i}\"", all, StringComparison.Ordinal));
    }

    /// <summary>Deletes what the test wrote: the test server keeps its objects in memory.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach ((S3Server server, string prefix) in _written)
        {
            await server.DeleteAllAsync(prefix);
        }
    }

    /// <summary>Returns <paramref name="prefix"/>, deleted when the test ends.</summary>
    private string Track(S3Server s3, string prefix)
    {
        _written.Add((s3, prefix));
        return prefix;
    }

    private static async Task<TestCollector> StartAsync(S3Server s3, string prefix, string format)
    {
        Dictionary<string, string?> settings = s3.Exporter(0, prefix + "features/", format);
        foreach (KeyValuePair<string, string?> setting in s3.Exporter(1, prefix + "tracking/", format, "tracking"))
        {
            settings[setting.Key] = setting.Value;
        }

        return await TestCollector.StartAsync(settings, fileExporters: false);
    }

    private static async Task<(string Feature, string Tracking)> PostAndReadAsync(S3Server s3, string prefix, string format)
    {
        await using TestCollector collector = await StartAsync(s3, prefix, format);
        HttpResponseMessage response = await collector.PostAsync(Payload);
        Assert.Equal("""{"ingestedContentCount":2}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Empty(await s3.ReadAllAsync(prefix));
        await collector.StopAsync();

        (string featureKey, byte[] feature) = Assert.Single(await s3.ReadAllAsync(prefix + "features/"));
        (string trackingKey, byte[] tracking) = Assert.Single(await s3.ReadAllAsync(prefix + "tracking/"));
        Assert.EndsWith("." + format, featureKey, StringComparison.Ordinal);
        Assert.EndsWith("." + format, trackingKey, StringComparison.Ordinal);
        return (Encoding.UTF8.GetString(feature), Encoding.UTF8.GetString(tracking));
    }
}

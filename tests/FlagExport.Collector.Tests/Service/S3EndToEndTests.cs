using System.Net;
using System.Text;
using FlagExport.Collector.Tests.Support;
using Parquet.Serialization;

namespace FlagExport.Collector.Tests.Service;

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

    [Fact]
    public async Task Parquet_ArrivesInS3_WithEveryColumn()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = Track(s3, S3Server.NewPrefix("parquet"));
        await using TestCollector collector = await StartAsync(s3, prefix, "parquet");
        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync(Payload)).StatusCode);
        await collector.StopAsync();

        SortedDictionary<string, byte[]> objects = await s3.ReadAllAsync(prefix + "features/");
        (string key, byte[] body) = Assert.Single(objects);
        Assert.EndsWith(".parquet", key, StringComparison.Ordinal);
        using var stream = new MemoryStream(body);
        var rows = await ParquetSerializer.DeserializeUntypedAsync(stream, cancellationToken: TestContext.Current.CancellationToken);
        Dictionary<string, object> row = Assert.Single(rows.Data);
        Assert.Equal("my-feature-flag", row["key"]);
        Assert.Equal(User, row["userKey"]);
        Assert.Equal(1733230547L, row["creationDate"]);
        Assert.Equal("\"string\"", row["value"]);
        Assert.Equal("PROVIDER_CACHE", row["source"]);
        Assert.Single(await s3.ReadAllAsync(prefix + "tracking/"));
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

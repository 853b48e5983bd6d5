using System.Net;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>Without a durable buffer, a request whose events do not fit the exporters' buffers is refused whole.</summary>
public sealed class CollectBackPressureTests
{
    private static readonly Dictionary<string, string?> SmallBuffers = new()
    {
        ["exporters:0:maxEventInMemory"] = "5",
        ["exporters:0:maxBufferedEvents"] = "5",
        ["exporters:1:maxEventInMemory"] = "100",
        ["exporters:1:maxBufferedEvents"] = "100",
    };

    [Fact]
    public async Task RequestThatDoesNotFit_Is503WithRetryAfter_AndKeepsNothingInAnyPipeline()
    {
        await using TestCollector collector = await TestCollector.StartAsync(SmallBuffers);
        HttpResponseMessage first = await collector.PostAsync(Request(("feature", "a1"), ("feature", "a2"), ("feature", "a3")));

        // 3 buffered of 5: the next request's 3 feature events do not fit, so its tracking event is not kept either.
        HttpResponseMessage second = await collector.PostAsync(Request(("feature", "b1"), ("tracking", "b2"), ("feature", "b3"), ("feature", "b4")));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal("5", second.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string message = Message(await second.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains("maxBufferedEvents = 5", message, StringComparison.Ordinal);
        Assert.Contains("nothing was accepted", message, StringComparison.Ordinal);

        // Once the buffer has room again, the same request is accepted whole.
        await collector.FlushAsync();
        HttpResponseMessage resent = await collector.PostAsync(Request(("feature", "b1"), ("tracking", "b2"), ("feature", "b3"), ("feature", "b4")));
        Assert.Equal("""{"ingestedContentCount":4}""", await resent.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        await collector.StopAsync();
        Assert.Equal(["a1", "a2", "a3", "b1", "b3", "b4"], UserKeys(TestCollector.ReadAll(collector.FeatureDir)));
        Assert.Equal(["b2"], UserKeys(TestCollector.ReadAll(collector.TrackingDir)));
    }

    [Fact]
    public async Task RequestLargerThanABufferEverHolds_Is413NamingTheLimit_NotARetry()
    {
        await using TestCollector collector = await TestCollector.StartAsync(SmallBuffers);

        HttpResponseMessage response = await collector.PostAsync(Request([.. Enumerable.Range(0, 6).Select(i => ("feature", $"u{i}"))]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        string message = Message(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains("6 feature events", message, StringComparison.Ordinal);
        Assert.Contains("maxBufferedEvents = 5", message, StringComparison.Ordinal);
        await collector.StopAsync();
        Assert.Equal("", TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task TrackingEventsWithoutATrackingExporter_AreStillReportedAsDropped_WhenTheFeatureBufferIsFull()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?>
        {
            ["exporters:0:maxEventInMemory"] = "2",
            ["exporters:0:maxBufferedEvents"] = "2",
            ["exporters:1:eventType"] = "feature",
        });

        HttpResponseMessage accepted = await collector.PostAsync(Request(("feature", "a"), ("tracking", "t")));
        Assert.Equal("""{"ingestedContentCount":1,"droppedContentCount":1}""", await accepted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        HttpResponseMessage refused = await collector.PostAsync(Request(("feature", "b"), ("feature", "c")));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
    }

    private static string Request(params (string Kind, string UserKey)[] events) =>
        "{\"events\":[" + string.Join(",", events.Select(e => e.Kind == "feature"
            ? $$"""{"kind":"feature","userKey":"{{e.UserKey}}","creationDate":1700000000,"key":"flag","variation":"on","value":true}"""
            : $$$"""{"kind":"tracking","userKey":"{{{e.UserKey}}}","creationDate":1700000000,"key":"bought","contextKind":"user","evaluationContext":{"targetingKey":"{{{e.UserKey}}}"},"trackingEventDetails":{}}""")) + "]}";

    private static string Message(string body)
    {
        using JsonDocument error = JsonDocument.Parse(body);
        return error.RootElement.GetProperty("message").GetString()!;
    }

    private static List<string> UserKeys(string lines) =>
        [.. lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            return doc.RootElement.GetProperty("userKey").GetString()!;
        })];
}

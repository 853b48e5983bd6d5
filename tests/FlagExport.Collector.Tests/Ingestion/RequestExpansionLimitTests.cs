using System.Net;
using System.Text;
using System.Text.Json;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>
/// A request's <c>meta</c> is written into every feature event's metadata: what a request expands to is limited by
/// <c>maxRequestExpandedBytes</c>, and a request over it is refused whole with 413.
/// </summary>
public sealed class RequestExpansionLimitTests
{
    private const string Event = """{"kind":"feature","userKey":"u1","key":"flag","value":1}""";

    [Fact]
    public async Task SmallBodyWithAHugeMetaForManyEvents_Is413NamingTheLimit_AndKeepsNothing()
    {
        // 0.78 MB: a 0.56 MB meta and 4,000 events, which go-feature-flag's format would write as more than 2 GiB.
        string body = Body(metaBytes: 560_000, events: 4_000);
        Assert.InRange(Encoding.UTF8.GetByteCount(body), 750_000, 800_000);
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.PostAsync(body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using JsonDocument error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        string message = error.RootElement.GetProperty("message").GetString()!;
        Assert.Contains("maxRequestExpandedBytes", message, StringComparison.Ordinal);
        Assert.Contains($"limit of {CollectorSettings.DefaultMaxRequestExpandedBytes} bytes", message, StringComparison.Ordinal);
        long expanded = long.Parse(message.Split(' ')[4], System.Globalization.CultureInfo.InvariantCulture); // "The request expands to N bytes ..."
        Assert.True(expanded > 2L * 1024 * 1024 * 1024, message);
        await collector.StopAsync();
        Assert.Equal("", TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task ExpansionIsEachEventsBytesPlusTheMetaOncePerFeatureEvent_AndTheLimitIsInclusive()
    {
        // Two feature events and one tracking event under a meta of 12 bytes: {"env":"pr"}.
        const string Tracking = """{"kind":"tracking","userKey":"u","creationDate":1700000000,"key":"bought","contextKind":"user","evaluationContext":{"targetingKey":"u"},"trackingEventDetails":{}}""";
        string body = "{\"meta\":{\"env\":\"pr\"},\"events\":[" + Event + "," + Event + "," + Tracking + "]}";
        long expected = (2 * Encoding.UTF8.GetByteCount(Event)) + Encoding.UTF8.GetByteCount(Tracking) + (2 * 12);
        await using TestCollector exact = await TestCollector.StartAsync(new Dictionary<string, string?> { ["maxRequestExpandedBytes"] = $"{expected}" });
        await using TestCollector oneLess = await TestCollector.StartAsync(new Dictionary<string, string?> { ["maxRequestExpandedBytes"] = $"{expected - 1}" });

        HttpResponseMessage accepted = await exact.PostAsync(body);
        HttpResponseMessage refused = await oneLess.PostAsync(body);

        Assert.Equal("""{"ingestedContentCount":3}""", await accepted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Contains($"expands to {expected} bytes", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Contains($"limit of {expected - 1} bytes (maxRequestExpandedBytes)", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OrdinaryProviderRequest_IsUnaffectedByTheDefaultLimit()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.PostAsync(Body(metaBytes: 200, events: 1_000));

        Assert.Equal("""{"ingestedContentCount":1000}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static string Body(int metaBytes, int events)
    {
        // {"meta":{"blob":"xxx…"}}: the meta object is metaBytes long.
        string meta = "{\"blob\":\"" + new string('x', metaBytes - 11) + "\"}";
        return "{\"meta\":" + meta + ",\"events\":[" + string.Join(",", Enumerable.Repeat(Event, events)) + "]}";
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FlagExport.Collector.Tests.RelayProxy;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>
/// Memory mode under overload: when no exporter has room for one more event, a request is refused with 503 before its
/// body is parsed (so a malformed body gets 503, not 400), answered exactly as a full buffer is, on a connection that
/// stays usable; refusals for lack of room are logged once per episode, not once per request. A full buffer sends its
/// batch to the exporter at once (its size trigger), so the tests block the exporter (its folder is a file) to keep it
/// full.
/// </summary>
public sealed class CollectOverloadTests
{
    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    // Two feature exporters and no tracking one, each holding at most 5 events.
    private static readonly Dictionary<string, string?> FiveFeatureEvents = new()
    {
        ["exporters:0:maxEventInMemory"] = "5",
        ["exporters:0:maxBufferedEvents"] = "5",
        ["exporters:1:eventType"] = "feature",
        ["exporters:1:maxEventInMemory"] = "5",
        ["exporters:1:maxBufferedEvents"] = "5",
    };

    private const string NotJson = "{\"events\":[ this is not JSON";

    [Fact]
    public async Task FullBuffer_RefusesWith503BeforeParsing_AsAFullBufferAnswers_AndParsesAgainOnceThereIsRoom()
    {
        await using TestCollector collector = await TestCollector.StartAsync(FiveFeatureEvents);
        Block(collector.FeatureDir);
        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync(Features(5))).StatusCode);

        HttpResponseMessage refused = await collector.PostAsync(NotJson);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        string message = Message(await refused.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal("The buffer of exporter 'exporter-0' has no room for more events (maxBufferedEvents = 5); nothing was accepted, send the events again later.", message);

        // With room again, the same body is parsed and refused for what it is.
        await UnblockAsync(collector.FeatureDir, collector.FlushAsync);
        HttpResponseMessage malformed = await collector.PostAsync(NotJson);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        await collector.StopAsync();
        Assert.Equal(5, TestCollector.ReadAll(collector.FeatureDir).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task FullFeatureBuffer_StillParsesAndAcceptsTrackingEvents_WhoseExporterHasRoom()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?>
        {
            ["exporters:0:maxEventInMemory"] = "5",
            ["exporters:0:maxBufferedEvents"] = "5",
        });
        Block(collector.FeatureDir);
        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync(Features(5))).StatusCode);

        HttpResponseMessage malformed = await collector.PostAsync(NotJson);
        HttpResponseMessage tracking = await collector.PostAsync(
            """{"events":[{"kind":"tracking","userKey":"t","creationDate":1700000000,"key":"bought","contextKind":"user","evaluationContext":{"targetingKey":"t"},"trackingEventDetails":{}}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("""{"ingestedContentCount":1}""", await tracking.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task RefusalsForLackOfRoom_AreLoggedOncePerEpisode_WithTheirCountWhenAcceptingAgain()
    {
        await using TestCollector collector = await TestCollector.StartAsync(FiveFeatureEvents);
        Block(collector.FeatureDir);
        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync(Features(5))).StatusCode);

        // Episode 1: refused before parsing, three times; ended by the first accepted request.
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await collector.PostAsync(Features(1))).StatusCode);
        }

        await UnblockAsync(collector.FeatureDir, collector.FlushAsync);
        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync(Features(3))).StatusCode);

        // Episode 2: room for 2 events (under the size trigger: nothing is exported), so this one is parsed, then refused
        // by the reservation.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await collector.PostAsync(Features(3))).StatusCode);
        await collector.FlushAsync();
        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync(Features(1))).StatusCode);

        // Other refusals keep their line per request.
        Assert.Equal(HttpStatusCode.BadRequest, (await collector.PostAsync(NotJson)).StatusCode);

        string[] logs = collector.Logs().Split('\n');
        string[] warnings = [.. logs.Where(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Refusing requests with 503", StringComparison.Ordinal))];
        Assert.Equal(2, warnings.Length);
        Assert.Contains("no room for more events (maxBufferedEvents = 5)", warnings[0], StringComparison.Ordinal);
        Assert.Contains("no room for 3 more events (maxBufferedEvents = 5)", warnings[1], StringComparison.Ordinal);
        Assert.Equal(
            [
                "Information FlagExport.Collector.Ingestion.CollectEndpoint Accepting requests again; 3 were refused with 503 for lack of room meanwhile",
                "Information FlagExport.Collector.Ingestion.CollectEndpoint Accepting requests again; 1 were refused with 503 for lack of room meanwhile",
            ],
            logs.Where(l => l.Contains("Accepting requests again", StringComparison.Ordinal)).Select(l => l.TrimEnd()));
        Assert.DoesNotContain(logs, l => l.StartsWith("Information", StringComparison.Ordinal) && l.Contains("Refused a request with 503", StringComparison.Ordinal));
        Assert.Single(logs, l => l.StartsWith("Information", StringComparison.Ordinal) && l.Contains("Refused a request with 400", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RefusedBeforeReadingTheBody_TheConnectionServesTheNextRequests()
    {
        await using ListeningCollector collector = await ListeningCollector.StartAsync(new Dictionary<string, string?>
        {
            ["exporters:0:maxEventInMemory"] = "5",
            ["exporters:0:maxBufferedEvents"] = "5",
        });
        int connections = 0;
        using var client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            ConnectCallback = async (context, cancellationToken) =>
            {
                _ = Interlocked.Increment(ref connections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri(collector.Url) };
        Block(collector.FeatureDir);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Features(5))).StatusCode);

        // A body larger than one read of the socket, left unread by the collector; then a well-formed one.
        string large = NotJson + new string(' ', 256 * 1024);
        HttpResponseMessage refusedLarge = await PostAsync(client, large);
        HttpResponseMessage refused = await PostAsync(client, Features(1));
        await UnblockAsync(collector.FeatureDir, collector.FlushAsync);
        HttpResponseMessage accepted = await PostAsync(client, Features(2));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refusedLarge.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("""{"ingestedContentCount":2}""", await accepted.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(1, connections);
    }

    /// <summary>Makes the exporter's folder a file: every export fails, and its events stay buffered.</summary>
    private static void Block(string folder)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        File.WriteAllText(folder, "not a folder");
    }

    /// <summary>Lets the exporter write again, then writes what it holds.</summary>
    private static Task UnblockAsync(string folder, Func<Task> flush)
    {
        File.Delete(folder);
        return flush();
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string json)
    {
        HttpResponseMessage response = await client.PostAsync("/v1/data/collector", new StringContent(json, Encoding.UTF8, "application/json"), Cancellation);
        _ = await response.Content.ReadAsStringAsync(Cancellation); // read whole, so the connection goes back to the pool
        return response;
    }

    private static string Features(int count) =>
        "{\"events\":[" + string.Join(",", Enumerable.Range(0, count).Select(i =>
            $$"""{"kind":"feature","userKey":"u{{i}}","creationDate":1700000000,"key":"flag","variation":"on","value":true}""")) + "]}";

    private static string Message(string body)
    {
        using JsonDocument error = JsonDocument.Parse(body);
        return error.RootElement.GetProperty("message").GetString()!;
    }
}

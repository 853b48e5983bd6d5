using System.Net;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>
/// <c>Idempotency-Key</c> on <c>/v1/data/collector</c> (memory mode; the durable buffer's side is in the process tests
/// and the durability tests): a retry of an acknowledged request is answered as it was and keeps nothing again.
/// </summary>
public sealed class IdempotencyKeyTests
{
    private const string Header = "Idempotency-Key";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ARetryWithTheSameKeyAndBody_IsAnsweredWithTheOriginalCount_AndKeepsNothing()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage first = await Post(collector, "batch-1", "a1", "a2");
        HttpResponseMessage retry = await Post(collector, "batch-1", "a1", "a2");

        Assert.Equal("""{"ingestedContentCount":2}""", await first.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("""{"ingestedContentCount":2}""", await retry.Content.ReadAsStringAsync(Cancellation));
        await collector.StopAsync();
        Assert.Equal(["a1", "a2"], UserKeys(TestCollector.ReadAll(collector.FeatureDir)));
        Assert.Contains("Answered a retry of the request acknowledged at", collector.Logs(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheKeyWithAnotherBody_Is422NamingTheHeader_AndKeepsNothing()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        _ = await Post(collector, "batch-1", "a1");
        HttpResponseMessage other = await Post(collector, "batch-1", "b1");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        string message = Message(await other.Content.ReadAsStringAsync(Cancellation));
        Assert.Contains("Idempotency-Key 'batch-1' was used for a different body", message, StringComparison.Ordinal);
        await collector.StopAsync();
        Assert.Equal(["a1"], UserKeys(TestCollector.ReadAll(collector.FeatureDir)));
    }

    [Fact]
    public async Task RequestsWithoutAKey_AreKeptEachTime()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        _ = await Post(collector, key: null, "a1");
        _ = await Post(collector, key: null, "a1");

        await collector.StopAsync();
        Assert.Equal(["a1", "a1"], UserKeys(TestCollector.ReadAll(collector.FeatureDir)));
    }

    [Fact]
    public async Task TheSameKeyFromAnotherApiKey_IsAnotherSendersKey_AndKept()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?>
        {
            ["apiKeys:0"] = "sender-one",
            ["apiKeys:1"] = "sender-two",
        });

        HttpResponseMessage one = await Post(collector, "batch-1", ["a1"], "sender-one");
        HttpResponseMessage two = await Post(collector, "batch-1", ["a1"], "sender-two");
        HttpResponseMessage oneAgain = await Post(collector, "batch-1", ["a1"], "sender-one");

        Assert.All([one, two, oneAgain], answer => Assert.Equal(HttpStatusCode.OK, answer.StatusCode));
        await collector.StopAsync();
        Assert.Equal(["a1", "a1"], UserKeys(TestCollector.ReadAll(collector.FeatureDir)));
    }

    [Theory]
    [InlineData(256, "")]
    [InlineData(0, "batch\t1")]
    public async Task AKeyOutsideOneTo255PrintableAsciiCharacters_Is400NamingTheHeaderAndTheLimit(int length, string key)
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage answer = await Post(collector, new string('k', length) + key, "a1");

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        string message = Message(await answer.Content.ReadAsStringAsync(Cancellation));
        Assert.Contains("Idempotency-Key header must be 1 to 255 printable ASCII characters", message, StringComparison.Ordinal);
        await collector.StopAsync();
        Assert.Equal("", TestCollector.ReadAll(collector.FeatureDir));
    }

    [Fact]
    public async Task TwoKeyHeaders_Are400()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage answer = await collector.PostAsync(Request("a1"), configure: request =>
            request.Headers.TryAddWithoutValidation(Header, ["one", "two"]));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("must be sent once", Message(await answer.Content.ReadAsStringAsync(Cancellation)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentRequestsWithTheSameKey_KeepTheEventsOnce_AndAreAllAnsweredWithTheCount()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage[] answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Post(collector, "batch-1", "a1", "a2", "a3")));

        foreach (HttpResponseMessage answer in answers)
        {
            Assert.Equal("""{"ingestedContentCount":3}""", await answer.Content.ReadAsStringAsync(Cancellation));
        }

        await collector.StopAsync();
        Assert.Equal(["a1", "a2", "a3"], UserKeys(TestCollector.ReadAll(collector.FeatureDir)));
    }

    [Fact]
    public async Task ARefusedRequest_LeavesItsKeyUnused_SoItsRetryIsKept()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?>
        {
            ["exporters:0:maxEventInMemory"] = "3",
            ["exporters:0:maxBufferedEvents"] = "3",
        });
        _ = await Post(collector, key: null, "x1", "x2");

        HttpResponseMessage refused = await Post(collector, "batch-1", "a1", "a2");
        await collector.FlushAsync();
        HttpResponseMessage retry = await Post(collector, "batch-1", "a1", "a2");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("""{"ingestedContentCount":2}""", await retry.Content.ReadAsStringAsync(Cancellation));
        await collector.StopAsync();
        Assert.Equal(["x1", "x2", "a1", "a2"], UserKeys(TestCollector.ReadAll(collector.FeatureDir)));
    }

    private static Task<HttpResponseMessage> Post(TestCollector collector, string? key, params string[] userKeys) =>
        Post(collector, key, userKeys, apiKey: null);

    private static Task<HttpResponseMessage> Post(TestCollector collector, string? key, string[] userKeys, string? apiKey) =>
        collector.PostAsync(Request(userKeys), configure: request =>
        {
            if (key is not null)
            {
                _ = request.Headers.TryAddWithoutValidation(Header, key);
            }

            if (apiKey is not null)
            {
                _ = request.Headers.TryAddWithoutValidation("X-API-Key", apiKey);
            }
        });

    private static string Request(params string[] userKeys) =>
        "{\"events\":[" + string.Join(",", userKeys.Select(u =>
            $$"""{"kind":"feature","userKey":"{{u}}","creationDate":1700000000,"key":"flag","variation":"on","value":true}""")) + "]}";

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

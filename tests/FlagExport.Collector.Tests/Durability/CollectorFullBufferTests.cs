using System.Net;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector process with a small durable buffer and S3 unreachable: once the buffer is full it answers 503 with
/// <c>Retry-After</c> and keeps nothing of the refused request; every event answered 200 is exported once after the
/// outage, and the space exported frees takes new events again.
/// </summary>
public sealed class CollectorFullBufferTests : IDisposable
{
    private const long MaxBufferBytes = 1024 * 1024;
    private const int RequestSize = 200;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task FullBuffer_Answers503WithRetryAfter_KeepsNothingRefused_AndExportsEveryAcknowledgedEventOnce()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("full-buffer");
        await using FaultProxy proxy = FaultProxy.Start(new Uri(s3.Endpoint));
        proxy.BlackHole();
        await File.WriteAllTextAsync(
            _directory.Combine("collector.yaml"),
            DurableCollector.Yaml(_directory, s3, proxy.Endpoint, prefix, maxEventInMemory: 2_000, maxBufferBytes: MaxBufferBytes),
            TestContext.Current.CancellationToken);
        try
        {
            using CollectorProcess collector = DurableCollector.Start(_directory);
            string address = await collector.WaitUntilListeningAsync();
            using var client = new HttpClient();
            var acknowledged = new List<string>();
            var refused = new List<string>();
            int next = 0;

            // 1 MiB holds some thousands of these events: a bound of 100,000 only stops a buffer that never fills.
            (HttpResponseMessage? full, next) = await DurableCollector.PostUntilRefusedAsync(
                client, address, "full", next, RequestSize, limit: 100_000, acknowledged, refused, TestContext.Current.CancellationToken);

            Assert.NotNull(full);
            using (full)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
                Assert.True(full.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {full.Headers.RetryAfter}");
                Assert.Equal("application/json", full.Content.Headers.ContentType?.MediaType);
                using JsonDocument error = JsonDocument.Parse(await full.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
                Assert.Contains("full", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
            }

            // Still full: another request is refused whole too.
            string[] again = DurableCollector.Keys("full", next, RequestSize);
            next += RequestSize;
            using (HttpResponseMessage response = await DurableCollector.PostAsync(client, address, again, TestContext.Current.CancellationToken))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                refused.AddRange(again);
            }

            proxy.Pass();
            SortedDictionary<string, string[]> objects = await DurableCollector.WaitForKeysAsync(s3, prefix, acknowledged, collector);
            var allowed = acknowledged.ToHashSet(StringComparer.Ordinal);
            DurableCollector.AssertExactlyOnce(objects, acknowledged, allowed);
            Assert.DoesNotContain(objects.Values.SelectMany(k => k), refused.Contains);

            // Everything is exported: the buffer has room again, and the client that was told to retry gets its 200.
            await DurableCollector.WaitUntilAsync(
                async () =>
                {
                    using HttpResponseMessage response = await DurableCollector.PostAsync(client, address, again, TestContext.Current.CancellationToken);
                    Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"answer {(int)response.StatusCode}");
                    return response.StatusCode == HttpStatusCode.OK;
                },
                $"the events refused while the buffer was full are accepted once all {acknowledged.Count} acknowledged events are exported (still 503)",
                seconds: 15);
            acknowledged.AddRange(again);
            allowed.UnionWith(again);
            objects = await DurableCollector.WaitForKeysAsync(s3, prefix, again, collector);
            DurableCollector.AssertExactlyOnce(objects, acknowledged, allowed);
            DurableCollector.AssertNoDeadLetters(_directory);
        }
        finally
        {
            await s3.DeleteAllAsync(prefix);
        }
    }
}

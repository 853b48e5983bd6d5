using System.Net;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector process killed with its events in one segment sized for the default capacity, then restarted with a
/// <c>maxBufferBytes</c> below what the buffer holds: it warns at start, exports every held event once, and takes new
/// requests again once they are exported (the held segment is released), without another restart.
/// </summary>
public sealed class CollectorShrunkBufferTests : IDisposable
{
    private const int Events = 60_000;
    private const int RequestSize = 1_000;
    private const long SmallMaxBufferBytes = 1024 * 1024;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Restart_WithMaxBufferBytesBelowTheHeldSegment_WarnsExportsEverythingOnceAndTakesRequestsAgain()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("shrunk-buffer");
        string config = _directory.Combine("collector.yaml");
        string[] held = DurableCollector.Keys("held", 0, Events);
        try
        {
            // Default maxBufferBytes (segments of 64 MiB) and no batch cut before the kill: everything in one open segment.
            await File.WriteAllTextAsync(
                config, DurableCollector.Yaml(_directory, s3, new Uri(s3.Endpoint), prefix, flushIntervalMs: 3_600_000, maxEventInMemory: 100_000),
                TestContext.Current.CancellationToken);
            using (CollectorProcess first = DurableCollector.Start(_directory))
            {
                string address = await first.WaitUntilListeningAsync();
                using var client = new HttpClient();
                for (int i = 0; i < Events; i += RequestSize)
                {
                    using HttpResponseMessage response = await DurableCollector.PostAsync(client, address, held[i..(i + RequestSize)], TestContext.Current.CancellationToken);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }

                first.Kill();
            }

            string segment = Assert.Single(DurableCollector.Segments(_directory));
            long heldBytes = new FileInfo(segment).Length;
            Assert.True(heldBytes > SmallMaxBufferBytes, $"{heldBytes} bytes held: the test needs more than {SmallMaxBufferBytes}");

            await File.WriteAllTextAsync(
                config, DurableCollector.Yaml(_directory, s3, new Uri(s3.Endpoint), prefix, maxEventInMemory: 10_000, maxBufferBytes: SmallMaxBufferBytes),
                TestContext.Current.CancellationToken);
            using CollectorProcess second = DurableCollector.Start(_directory);
            string secondAddress = await second.WaitUntilListeningAsync();
            Assert.Contains($"bytes, more than maxBufferBytes = {SmallMaxBufferBytes}: new events are refused (503)", second.Output, StringComparison.Ordinal);

            SortedDictionary<string, string[]> objects = await DurableCollector.WaitForKeysAsync(s3, prefix, held, second);
            DurableCollector.AssertExactlyOnce(objects, held, held.ToHashSet(StringComparer.Ordinal));

            // Everything held is exported: its segment is released and the buffer takes requests again.
            string[] after = DurableCollector.Keys("after", 0, RequestSize);
            using var secondClient = new HttpClient();
            await DurableCollector.WaitUntilAsync(
                async () =>
                {
                    using HttpResponseMessage response = await DurableCollector.PostAsync(secondClient, secondAddress, after, TestContext.Current.CancellationToken);
                    Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"answer {(int)response.StatusCode}");
                    return response.StatusCode == HttpStatusCode.OK;
                },
                $"a request is accepted once all {Events} held events are exported (still 503)",
                seconds: 15);
            Assert.DoesNotContain(segment, DurableCollector.Segments(_directory));

            string[] all = [.. held, .. after];
            objects = await DurableCollector.WaitForKeysAsync(s3, prefix, all, second);
            DurableCollector.AssertExactlyOnce(objects, all, all.ToHashSet(StringComparer.Ordinal));
            second.Signal("TERM");
            Assert.True(await second.WaitForExitAsync() == 0, second.Output);
            DurableCollector.AssertNoDeadLetters(_directory);
        }
        finally
        {
            await s3.DeleteAllAsync(prefix);
        }
    }
}

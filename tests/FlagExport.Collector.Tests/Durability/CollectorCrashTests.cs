using System.Collections.Concurrent;
using System.Net;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector process with the durable buffer, killed with SIGKILL (no shutdown code runs) and started again on the
/// same folder: every event answered 200 reaches S3 exactly once, whether the kill came during an outage or in the
/// middle of uploads, and after any number of kills.
/// </summary>
public sealed class CollectorCrashTests : IDisposable
{
    private const int RequestSize = 50;

    private static readonly TimeSpan PostingPause = TimeSpan.FromMilliseconds(40);

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Sigkill_DuringAnOutage_ThenRestart_ExportsEveryAcknowledgedEventOnce()
    {
        const int Events = 2_000;
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("crash-outage");
        await using FaultProxy proxy = FaultProxy.Start(new Uri(s3.Endpoint));
        proxy.BlackHole();
        await WriteConfigAsync(s3, proxy, prefix);
        try
        {
            var acknowledged = new List<string>();
            using (CollectorProcess first = DurableCollector.Start(_directory))
            {
                string address = await first.WaitUntilListeningAsync();
                using var client = new HttpClient();
                for (int i = 0; i < Events; i += RequestSize)
                {
                    string[] keys = DurableCollector.Keys("outage", i, RequestSize);
                    using HttpResponseMessage response = await DurableCollector.PostAsync(client, address, keys, TestContext.Current.CancellationToken);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    acknowledged.AddRange(keys);
                }

                // A batch was cut, saved in the cursor and sent into the black hole: the kill leaves it in flight.
                await DurableCollector.WaitUntilAsync(() => Task.FromResult(proxy.FaultsInjected > 0), "an upload reached the proxy");
                first.Kill();
            }

            Assert.Empty(await s3.ReadAllAsync(prefix));
            proxy.Pass();

            using CollectorProcess second = DurableCollector.Start(_directory);
            _ = await second.WaitUntilListeningAsync();
            SortedDictionary<string, string[]> objects = await DurableCollector.WaitForKeysAsync(s3, prefix, acknowledged, second);

            DurableCollector.AssertExactlyOnce(objects, acknowledged, acknowledged.ToHashSet(StringComparer.Ordinal));
            Assert.Equal(acknowledged.Count, objects.Values.Sum(k => k.Length));
            Assert.Contains("resumes batch", second.Output, StringComparison.Ordinal);
            DurableCollector.AssertNoDeadLetters(_directory);
        }
        finally
        {
            await s3.DeleteAllAsync(prefix);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Sigkill_WhileUploading_ThenRestart_ExportsEveryAcknowledgedEventOnce_AfterAnyNumberOfKills(int kills)
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("crash-uploads");
        await using FaultProxy proxy = FaultProxy.Start(new Uri(s3.Endpoint));
        // Slow uploads: a kill most likely lands while one is under way (sent, not yet answered, or answered, not yet committed).
        proxy.Delay(TimeSpan.FromMilliseconds(30));
        await WriteConfigAsync(s3, proxy, prefix);
        try
        {
            var acknowledged = new ConcurrentBag<string>();
            var sent = new ConcurrentBag<string>();
            int next = 0;
            for (int round = 0; round < kills; round++)
            {
                using CollectorProcess collector = DurableCollector.Start(_directory);
                string address = await collector.WaitUntilListeningAsync();
                int objectsBefore = await DurableCollector.CountObjectsAsync(s3, prefix);
                Task posting = PostUntilRefusedAsync(address, round, () => Interlocked.Add(ref next, RequestSize) - RequestSize, sent, acknowledged, TestContext.Current.CancellationToken);

                await DurableCollector.WaitUntilAsync(
                    async () => await DurableCollector.CountObjectsAsync(s3, prefix) >= objectsBefore + 2 || posting.IsCompleted,
                    $"round {round}: two more objects in the bucket");
                Assert.False(posting.IsCompleted, $"The posting task ended before the kill: {posting.Exception}");
                collector.Kill();
                await posting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            }

            proxy.Pass();
            using CollectorProcess last = DurableCollector.Start(_directory);
            _ = await last.WaitUntilListeningAsync();
            string[] required = [.. acknowledged];
            _ = await DurableCollector.WaitForKeysAsync(s3, prefix, required, last);

            // A clean stop writes whatever is left (events of requests cut by a kill that made it to disk), so the bucket
            // is final when it is read.
            last.Signal("TERM");
            Assert.Equal(0, await last.WaitForExitAsync());
            SortedDictionary<string, string[]> objects = await DurableCollector.ReadUserKeysAsync(s3, prefix);

            DurableCollector.AssertExactlyOnce(objects, required, sent.ToHashSet(StringComparer.Ordinal));
            Assert.NotEmpty(required);
            DurableCollector.AssertNoDeadLetters(_directory);
        }
        finally
        {
            await s3.DeleteAllAsync(prefix);
        }
    }

    /// <summary>
    /// Posts requests of new events, a few dozen a second (about what the slowed exporter writes, so the bucket stays
    /// small), until one is not answered (the kill cuts it) or <paramref name="stop"/> fires;
    /// records each request's keys as sent before posting it, and as acknowledged once it got its 200.
    /// </summary>
    private static async Task PostUntilRefusedAsync(
        string address, int round, Func<int> nextFirst, ConcurrentBag<string> sent, ConcurrentBag<string> acknowledged, CancellationToken stop)
    {
        using var client = new HttpClient();
        while (!stop.IsCancellationRequested)
        {
            string[] keys = DurableCollector.Keys($"upload-r{round}", nextFirst(), RequestSize);
            foreach (string key in keys)
            {
                sent.Add(key);
            }

            HttpResponseMessage response;
            try
            {
                response = await DurableCollector.PostAsync(client, address, keys, stop);
            }
            catch (HttpRequestException)
            {
                return; // the process is gone
            }

            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            foreach (string key in keys)
            {
                acknowledged.Add(key);
            }

            try
            {
                await Task.Delay(PostingPause, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private Task WriteConfigAsync(S3Server s3, FaultProxy proxy, string prefix) =>
        File.WriteAllTextAsync(_directory.Combine("collector.yaml"), DurableCollector.Yaml(_directory, s3, proxy.Endpoint, prefix), TestContext.Current.CancellationToken);
}

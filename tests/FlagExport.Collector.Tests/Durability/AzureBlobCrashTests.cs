using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector process with the durable buffer and a <c>kind: azureBlobStorage</c> exporter, killed with SIGKILL and
/// started again on the same folder, with the fault proxy between it and Azurite: every event answered 200 is in the
/// container exactly once, whether the kill came during an outage or after Azurite stored a blob whose answer was lost.
/// </summary>
public sealed class AzureBlobCrashTests(AzuriteServer azurite) : IDisposable
{
    private const int Events = 1_000;
    private const int RequestSize = 50;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public Task Sigkill_DuringAnOutage_ThenRestart_WritesEveryAcknowledgedEventOnce() =>
        RunAsync("outage", proxy => proxy.BlackHole(), stored: false);

    [Fact]
    public Task Sigkill_AfterABlobWasStoredButItsAnswerLost_ThenRestart_WritesEveryAcknowledgedEventOnce() =>
        RunAsync("lost", proxy => proxy.DropResponse(), stored: true);

    private async Task RunAsync(string tag, Action<FaultProxy> fault, bool stored)
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient container = await server.NewContainerAsync();
        await using FaultProxy proxy = FaultProxy.Start(server.ServiceUrl);
        fault(proxy);
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            bufferDirectory: {DurableCollector.BufferDirectory(_directory)}
            deadLetterDirectory: {DurableCollector.DeadLetterDirectory(_directory)}
            exporters:
              - kind: azureBlobStorage
                container: {container.Name}
                accountName: {AzuriteServer.Account}
                accountKey: {AzuriteServer.AccountKey}
                serviceUrl: {new Uri(proxy.Endpoint, "/" + AzuriteServer.Account)}
                # Started during the fault: no container check at start.
                verifyContainerOnStart: false
                format: json
                flushInterval: 200
                maxEventInMemory: 100
            """, TestContext.Current.CancellationToken);

        var acknowledged = new List<string>();
        using (CollectorProcess first = DurableCollector.Start(_directory))
        {
            string address = await first.WaitUntilListeningAsync();
            using var client = new HttpClient();
            for (int i = 0; i < Events; i += RequestSize)
            {
                string[] keys = DurableCollector.Keys(tag, i, RequestSize);
                using HttpResponseMessage response = await DurableCollector.PostAsync(client, address, keys, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                acknowledged.AddRange(keys);
            }

            // A batch was cut, its names recorded in the cursor, and sent into the fault: the kill leaves it in flight.
            await DurableCollector.WaitUntilAsync(() => Task.FromResult(proxy.FaultsInjected > 0), "an upload reached the proxy");
            if (stored)
            {
                await DurableCollector.WaitUntilAsync(async () => (await ReadUserKeysAsync(container)).Count > 0, "Azurite stored a blob");
            }

            first.Kill();
        }

        proxy.Pass();
        using CollectorProcess second = DurableCollector.Start(_directory);
        _ = await second.WaitUntilListeningAsync();
        SortedDictionary<string, string[]> blobs = await WaitForKeysAsync(container, acknowledged, second);

        DurableCollector.AssertExactlyOnce(blobs, acknowledged, acknowledged.ToHashSet(StringComparer.Ordinal));
        Assert.Equal(acknowledged.Count, blobs.Values.Sum(k => k.Length));
        Assert.Contains("resumes batch", second.Output, StringComparison.Ordinal);
        DurableCollector.AssertNoDeadLetters(_directory);
    }

    private static async Task<SortedDictionary<string, string[]>> ReadUserKeysAsync(BlobContainerClient container)
    {
        var blobs = new SortedDictionary<string, string[]>(StringComparer.Ordinal);
        foreach ((string name, byte[] body) in await BlobRead.ReadAllAsync(container))
        {
            blobs[name] = [.. Encoding.UTF8.GetString(body)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!)];
        }

        return blobs;
    }

    private static async Task<SortedDictionary<string, string[]>> WaitForKeysAsync(
        BlobContainerClient container, List<string> expected, CollectorProcess collector)
    {
        SortedDictionary<string, string[]> blobs = [];
        int missing = expected.Count;
        try
        {
            await DurableCollector.WaitUntilAsync(
                async () =>
                {
                    blobs = await ReadUserKeysAsync(container);
                    var found = blobs.Values.SelectMany(k => k).ToHashSet(StringComparer.Ordinal);
                    missing = expected.Count(k => !found.Contains(k));
                    return missing == 0;
                },
                "every acknowledged event in the container",
                seconds: (int)DurableCollector.ExportTimeout.TotalSeconds);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"{missing} of {expected.Count} events are not in the container ({blobs.Count} blobs). Collector output:{Environment.NewLine}{collector.Output}"),
                exception);
        }

        return blobs;
    }
}

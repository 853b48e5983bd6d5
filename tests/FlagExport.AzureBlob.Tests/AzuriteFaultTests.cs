using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FlagExport.AzureBlob.Tests.Support;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.AzureBlob.Tests;

/// <summary>
/// A pipeline over the Azure Blob exporter with the TCP fault proxy between the exporter's own client and Azurite:
/// whatever the network does while faulted, once the fault clears every event the pipeline acknowledged is in the
/// container exactly once.
/// </summary>
/// <remarks>
/// The exporter builds its client from its options (account, key, the proxy's URL), so the Azure SDK's own retries are
/// those a user gets. Real sockets, so real time; the flush interval is an hour, so exports happen only on FlushAsync
/// and the pipeline's retry timer. Each test has its own proxy and container.
/// </remarks>
public sealed class AzuriteFaultTests(AzuriteServer azurite)
{
    private static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FaultedFlushBound = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(20);

    [Fact]
    public Task RefusedConnections_EveryAcknowledgedEventWrittenOnceAfterRecovery() => RunAsync("refuse", proxy => proxy.RefuseConnections());

    [Fact]
    public Task ResetMidBody_EveryAcknowledgedEventWrittenOnceAfterRecovery() =>
        RunAsync("reset", proxy => proxy.ResetMidBody(afterBytes: 8 * 1024)); // past the request head, inside the body

    [Fact]
    public Task InternalError500_EveryAcknowledgedEventWrittenOnceAfterRecovery() => RunAsync("http500", proxy => proxy.Answer(500));

    [Fact]
    public Task ServerBusy503_EveryAcknowledgedEventWrittenOnceAfterRecovery() => RunAsync("http503", proxy => proxy.Answer(503));

    /// <summary>Azurite stores the blob but every answer to it is lost: a later attempt must recognise it by its write id.</summary>
    [Fact]
    public async Task ResponseLostAfterStore_RetryRecognisesItsBlob_NoDuplicate()
    {
        IReadOnlyList<FakeLogRecord> log = await RunAsync("dropresponse", proxy => proxy.DropResponse(request => request.StartsWith("PUT ", StringComparison.Ordinal)));

        Assert.Contains(log, r => r.Id.Name == "AlreadyWritten");
    }

    /// <summary>
    /// Adds events, turns <paramref name="fault"/> on, sees a flush fail, clears the fault, flushes until it succeeds,
    /// and checks what the container holds: every acknowledged event once, in one blob.
    /// </summary>
    private async Task<IReadOnlyList<FakeLogRecord>> RunAsync(string name, Action<FaultProxy> fault)
    {
        AzuriteServer server = await azurite.RequireAsync();
        BlobContainerClient container = await server.NewContainerAsync();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        FeatureEvent[] events = ObjectStoreEvents.Create(300, name);
        var logger = new FakeLogger();
        int acknowledged = 0;

        await using (FaultProxy proxy = FaultProxy.Start(server.ServiceUrl))
        {
            var options = new AzureBlobExporterOptions
            {
                Container = container.Name,
                AccountName = AzuriteServer.Account,
                AccountKey = AzuriteServer.AccountKey,
                ServiceUrl = new Uri(proxy.Endpoint, "/" + AzuriteServer.Account),
            };
            using var exporter = new AzureBlobExporter(options, logger: logger) { Writer = { Reservations = new ObjectNameReservations() } };
            await using var pipeline = new DataExporter(exporter, new DataExporterOptions
            {
                FlushInterval = TimeSpan.FromHours(1),
                MaxEventInMemory = 10_000, // above the event count: one batch, and no export before the flush
                ExportTimeout = ExportTimeout,
                ShutdownTimeout = TimeSpan.FromSeconds(5),
            }, TimeProvider.System, logger);

            foreach (FeatureEvent item in events)
            {
                acknowledged += pipeline.Add(item) ? 1 : 0;
            }

            Assert.Equal(events.Length, acknowledged);

            fault(proxy);
            InvalidOperationException failed = await Assert.ThrowsAsync<InvalidOperationException>(
                () => pipeline.FlushAsync(cancellationToken).WaitAsync(FaultedFlushBound, cancellationToken));
            Assert.True(proxy.FaultsInjected > 0, $"The flush failed without a fault injected: {failed.InnerException?.Message ?? failed.Message}");

            proxy.Pass();
            await FlushUntilWrittenAsync(pipeline, cancellationToken);
        }

        var holders = new Dictionary<string, List<string>>(StringComparer.Ordinal); // user key -> the blobs holding it
        int read = 0;
        await foreach (BlobItem item in container.GetBlobsAsync(cancellationToken: cancellationToken))
        {
            BinaryData body = (await container.GetBlobClient(item.Name).DownloadContentAsync(cancellationToken)).Value.Content;
            foreach (string line in body.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string userKey = JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!;
                if (!holders.TryGetValue(userKey, out List<string>? blobs))
                {
                    holders[userKey] = blobs = [];
                }

                blobs.Add(item.Name);
                read++;
            }
        }

        Assert.Equal(acknowledged, read);
        Assert.Equal(events.Select(e => e.UserKey).Order(StringComparer.Ordinal), holders.Keys.Order(StringComparer.Ordinal));
        string[] twice = [.. holders.Where(h => h.Value.Count > 1).Select(h => $"{h.Key} in {string.Join(", ", h.Value)}")];
        Assert.True(twice.Length == 0, $"{twice.Length} events written more than once, for example {string.Join("; ", twice.Take(3))}");
        return logger.Collector.GetSnapshot();
    }

    /// <summary>Flushes until a flush succeeds; each failed flush has started an export attempt of its own.</summary>
    private static async Task FlushUntilWrittenAsync(DataExporter pipeline, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int failures = 0;
        while (true)
        {
            TimeSpan left = RecoveryBound - clock.Elapsed;
            Assert.True(left > TimeSpan.Zero, $"Nothing written within {RecoveryBound.TotalSeconds} s of the fault clearing ({failures} failed flushes).");
            try
            {
                await pipeline.FlushAsync(cancellationToken).WaitAsync(left, cancellationToken);
                return;
            }
            catch (InvalidOperationException)
            {
                failures++;
            }
        }
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.S3.Tests.Faults;

/// <summary>
/// A pipeline over the S3 exporter, with a <see cref="FaultProxy"/> between the exporter and the real S3 server: whatever
/// the network does while faulted, once the fault clears every event the pipeline acknowledged is in S3 exactly once.
/// </summary>
/// <remarks>
/// <para>The exporter builds its own client from its options, so the SDK's retries are those a user gets; they retry
/// within one export, and the pipeline's guarantee must hold whether they give up or not. The objects are read back
/// with a client of the test's own that talks to the server directly.</para>
/// <para>Real sockets, so real time. The interval is an hour: exports happen only on FlushAsync (at once) and on the
/// pipeline's retry timer (1 s doubling), which keeps each test to a few seconds.</para>
/// <para>Each test has a proxy and a prefix of its own, so the class runs beside the other S3 tests; never beside
/// <see cref="S3OutageTests"/>, whose collection disables parallelization and so runs alone.</para>
/// </remarks>
public sealed class S3FaultTests
{
    private static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The longest a flush may take while faulted: the export timeout, plus a multipart abort's own budget.</summary>
    private static readonly TimeSpan FaultedFlushBound = TimeSpan.FromSeconds(15);

    /// <summary>How long the pipeline may take to write everything once the fault is gone.</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(15);

    [Fact]
    public Task RefusedConnections_EveryAcknowledgedEventWrittenOnceAfterRecovery() =>
        RunAsync("refuse", proxy => proxy.RefuseConnections());

    [Fact]
    public Task ResetMidBody_EveryAcknowledgedEventWrittenOnceAfterRecovery() =>
        RunAsync("reset", proxy => proxy.ResetMidBody(afterBytes: 8 * 1024)); // past the request head, inside the body

    [Fact]
    public Task DelayBeyondExportTimeout_EveryAcknowledgedEventWrittenOnceAfterRecovery() =>
        RunAsync("delay", proxy => proxy.Delay(ExportTimeout + TimeSpan.FromSeconds(1)));

    [Fact]
    public Task BlackHole_EveryAcknowledgedEventWrittenOnceAfterRecovery() =>
        RunAsync("blackhole", proxy => proxy.BlackHole());

    [Fact]
    public Task InternalError500_EveryAcknowledgedEventWrittenOnceAfterRecovery() =>
        RunAsync("http500", proxy => proxy.Answer(500));

    [Fact]
    public Task SlowDown503_EveryAcknowledgedEventWrittenOnceAfterRecovery() =>
        RunAsync("http503", proxy => proxy.Answer(503));

    /// <summary>The server stores the object but its answer is lost: the retry must recognise the object by its write id.</summary>
    [Fact]
    public async Task ResponseLostAfterStore_RetryRecognisesItsObject_NoDuplicate()
    {
        Outcome outcome = await RunAsync("dropresponse", proxy => proxy.DropResponse());

        // The first PUT reached the server: without the write-id check the retry would take the name for another
        // writer's and store the batch again under the next one (the duplicate the assertions above would catch).
        Assert.Contains(outcome.Log, r => r.Id.Name == "AlreadyWritten");
        Assert.Single(outcome.Objects);
    }

    /// <summary>A multipart upload whose parts are cut mid-body: aborted, retried whole, written once, nothing left behind.</summary>
    [Fact]
    public async Task MultipartResetMidBody_EveryAcknowledgedEventWrittenOnceAfterRecovery()
    {
        Outcome outcome = await RunAsync(
            "multipart",
            proxy => proxy.ResetMidBody(afterBytes: 64 * 1024), // past the small requests (HEAD, initiate), inside a part
            configure: TwoParts,
            events: LargeEvents(6_000, "multipart"));

        Assert.Contains(outcome.Log, r => r.Id.Name == "MultipartAborted");
        await AssertOneMultipartObjectAsync(outcome);
    }

    /// <summary>
    /// The server completes a multipart upload but the answer is lost, to the SDK's retries too: the exporter's retry
    /// finds the object by its write id (radosgw ignores If-None-Match on completion, so only that check prevents a
    /// second copy).
    /// </summary>
    [Fact]
    public async Task MultipartCompletionAnswerLost_RetryRecognisesItsObject_NoDuplicate()
    {
        Outcome outcome = await RunAsync(
            "lostcomplete",
            proxy => proxy.DropResponse(request => request.StartsWith("POST ", StringComparison.Ordinal) && request.Contains("uploadId=", StringComparison.Ordinal)),
            configure: TwoParts,
            events: LargeEvents(6_000, "lostcomplete"));

        Assert.Contains(outcome.Log, r => r.Id.Name == "AlreadyWritten");
        await AssertOneMultipartObjectAsync(outcome);
    }

    /// <summary>Multipart from 5 MiB, in 5 MiB parts: <see cref="LargeEvents"/> of 6,000 events (about 7 MB) make two.</summary>
    private static void TwoParts(S3ExporterOptions options)
    {
        options.MultipartThreshold = S3ExporterOptions.MinMultipartPartSize;
        options.MultipartPartSize = S3ExporterOptions.MinMultipartPartSize;
    }

    private static async Task AssertOneMultipartObjectAsync(Outcome outcome)
    {
        S3Object written = Assert.Single(outcome.Objects);
        Assert.EndsWith("-2\"", written.ETag, StringComparison.Ordinal); // a multipart ETag names its part count

        // Every upload the faults interrupted was aborted or completed: no parts left behind.
        using AmazonS3Client s3 = outcome.Server.CreateClient();
        ListMultipartUploadsResponse uploads = await s3.ListMultipartUploadsAsync(
            new ListMultipartUploadsRequest { BucketName = outcome.Server.Bucket, Prefix = outcome.Prefix }, TestContext.Current.CancellationToken);
        Assert.Empty(uploads.MultipartUploads ?? []);
    }

    /// <summary>
    /// Adds events, turns <paramref name="fault"/> on, sees a flush fail, clears the fault, flushes until it succeeds,
    /// and checks what S3 holds: every acknowledged event once, in one object.
    /// </summary>
    private static async Task<Outcome> RunAsync(
        string name, Action<FaultProxy> fault, Action<S3ExporterOptions>? configure = null, FeatureEvent[]? events = null)
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        events ??= ObjectStoreEvents.Create(300, name);
        string prefix = S3TestServer.NewPrefix($"fault-{name}");
        var logger = new FakeLogger();
        var clock = Stopwatch.StartNew();
        int acknowledged = 0;
        string faultedFailure;
        int recoveryFailures;
        long connections;
        long faults;

        await using (FaultProxy proxy = FaultProxy.Start(new Uri(server.Endpoint)))
        {
            var options = new S3ExporterOptions
            {
                Bucket = server.Bucket,
                S3Path = prefix,
                ServiceUrl = proxy.Endpoint,
                Region = server.Region,
                RequestChecksumCalculation = "WHEN_REQUIRED", // radosgw 16
            };
            configure?.Invoke(options);
            using var exporter = new S3Exporter(options, logger: logger);
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
            faultedFailure = failed.InnerException?.Message ?? failed.Message;
            Assert.True(proxy.FaultsInjected > 0, $"The flush failed without a fault injected: {faultedFailure}");
            TimeSpan faultedAt = clock.Elapsed;

            proxy.Pass();
            recoveryFailures = await FlushUntilWrittenAsync(pipeline, cancellationToken);
            connections = proxy.Connections;
            faults = proxy.FaultsInjected;
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{name}: faulted flush failed after {faultedAt.TotalSeconds:F1} s ({faultedFailure}); written after {clock.Elapsed.TotalSeconds:F1} s, "
                + $"{recoveryFailures} failed flushes after the fault cleared");
        }

        using AmazonS3Client s3 = server.CreateClient();
        List<S3Object> objects = await S3Read.ListAsync(s3, server.Bucket, prefix);
        var holders = new Dictionary<string, List<string>>(StringComparer.Ordinal); // user key -> the objects holding it
        int read = 0;
        foreach (S3Object item in objects)
        {
            (byte[] body, _) = await S3Read.GetAsync(s3, server.Bucket, item.Key);
            foreach (string line in Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string userKey = JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!;
                if (!holders.TryGetValue(userKey, out List<string>? keys))
                {
                    holders[userKey] = keys = [];
                }

                keys.Add(item.Key);
                read++;
            }
        }

        IReadOnlyList<FakeLogRecord> log = logger.Collector.GetSnapshot();
        string counts = string.Join(", ", log.GroupBy(r => r.Id.Name).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{name}: {acknowledged} acknowledged, {read} read back from {objects.Count} objects; proxy: {connections} connections, {faults} faults; log: {counts}");

        Assert.Equal(acknowledged, read);
        Assert.Equal(events.Select(e => e.UserKey).Order(StringComparer.Ordinal), holders.Keys.Order(StringComparer.Ordinal));
        string[] twice = [.. holders.Where(h => h.Value.Count > 1).Select(h => $"{h.Key} in {string.Join(", ", h.Value)}")];
        Assert.True(twice.Length == 0, $"{twice.Length} events written more than once, for example {string.Join("; ", twice.Take(3))}");
        return new Outcome(server, prefix, objects, log);
    }

    /// <summary>Flushes until a flush succeeds; each failed flush has started an export attempt of its own.</summary>
    /// <returns>How many flushes failed first.</returns>
    private static async Task<int> FlushUntilWrittenAsync(DataExporter pipeline, CancellationToken cancellationToken)
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
                return failures;
            }
            catch (InvalidOperationException)
            {
                failures++;
            }
        }
    }

    /// <summary>Events of about 1.2 KB each as JSON, with distinct user keys.</summary>
    private static FeatureEvent[] LargeEvents(int count, string tag)
    {
        string padding = new('x', 1_000);
        return
        [
            .. Enumerable.Range(0, count).Select(i => new FeatureEvent
            {
                UserKey = $"{tag}-{i:D7}",
                CreationDate = ObjectStoreEvents.CreationDate,
                Key = "large",
                Variation = "on",
                Value = FlagValue.FromString($"{i}-{padding}"),
            }),
        ];
    }

    /// <summary>What a run left in S3 and in the log, for the checks particular to one fault.</summary>
    private sealed record Outcome(S3TestServer Server, string Prefix, IReadOnlyList<S3Object> Objects, IReadOnlyList<FakeLogRecord> Log);
}

using System.Diagnostics;
using System.Text.Json;
using Amazon.S3;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.S3.Tests;

/// <summary>Stops the server's HTTP front end, so nothing else may run meanwhile.</summary>
[CollectionDefinition(nameof(S3GatewayOutage), DisableParallelization = true)]
public sealed class S3GatewayOutage;

/// <summary>S3 goes down while events keep arriving through the pipeline, then comes back.</summary>
[Collection(nameof(S3GatewayOutage))]
public sealed class S3OutageTests
{
    [Fact]
    public async Task Pipeline_GatewayStoppedMidRun_EveryEventEndsUpInS3ExactlyOnce()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        string gateway = Path.Combine(Support.RepositoryFiles.Root(), "tests", "s3-server", "gateway.sh");
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix("outage");
        var logger = new FakeLogger();
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix }, s3, logger: logger);
        var options = new DataExporterOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(200), // the interval also retries a failed batch, so recovery is quick
            MaxEventInMemory = 400,
            MaxBufferedEvents = 100_000, // holds the whole outage: this test is about losing nothing, not about drops
            ExportTimeout = TimeSpan.FromSeconds(10),
            ShutdownTimeout = TimeSpan.FromSeconds(60),
        };
        int added = 0;
        await using (var pipeline = new DataExporter(exporter, options, logger: logger))
        {
            using var producing = new CancellationTokenSource();
            Task producer = Task.Run(async () =>
            {
                while (!producing.IsCancellationRequested)
                {
                    for (int i = 0; i < 25; i++)
                    {
                        Assert.True(pipeline.Add(new FeatureEvent { UserKey = $"user-{added:D7}", Key = "outage", CreationDate = ObjectStoreEvents.CreationDate, Value = added }));
                        added++;
                    }

                    await Task.Delay(10, CancellationToken.None);
                }
            }, CancellationToken.None);

            try
            {
                // Objects written before the outage: the export works while events arrive.
                await WaitForAsync(() => Written(logger) >= 1, "no object was written before the outage");
                await RunAsync(gateway, "stop");

                // Keep S3 down until uploads have failed while events kept arriving; poll rather than guess how long that takes.
                var down = System.Diagnostics.Stopwatch.StartNew();
                while (logger.Collector.GetSnapshot().Count(r => r.Id.Name == "UploadFailed") < 2)
                {
                    Assert.True(down.Elapsed < TimeSpan.FromSeconds(60), "No upload failed in a minute while the S3 gateway was stopped.");
                    await Task.Delay(100, TestContext.Current.CancellationToken);
                }
            }
            finally
            {
                await RunAsync(gateway, "start"); // always, so that no later test finds S3 down
            }

            // Objects written after the outage while events still arrive, then the producer stops.
            int writtenBeforeRecovery = Written(logger);
            await WaitForAsync(() => Written(logger) > writtenBeforeRecovery, "no object was written once S3 was back");
            await producing.CancelAsync();
            await producer;
            // Real time, capped: once S3 answers again the next interval (200 ms) retries; a minute means it never recovered.
            await pipeline.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        }

        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Name == "UploadFailed" && r.Message.Contains("network error", StringComparison.Ordinal));
        var keys = new List<string>();
        foreach (string key in await S3Read.KeysAsync(s3, server.Bucket, prefix))
        {
            (byte[] body, _) = await S3Read.GetAsync(s3, server.Bucket, key);
            foreach (string line in System.Text.Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                keys.Add(JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!);
            }
        }

        int failures = logger.Collector.GetSnapshot().Count(r => r.Id.Name == "UploadFailed");
        TestContext.Current.TestOutputHelper?.WriteLine($"{added} events, {failures} failed uploads, {keys.Count} events read back");
        Assert.True(added > 1000, $"only {added} events were added");
        Assert.Equal(added, keys.Distinct().Count()); // none lost
        Assert.Equal(added, keys.Count);              // none twice
    }

    private static int Written(FakeLogger logger) => logger.Collector.GetSnapshot().Count(r => r.Id.Name == "ObjectWritten");

    /// <summary>Polls <paramref name="condition"/> until it holds; a minute without it fails with <paramref name="failure"/>.</summary>
    private static async Task WaitForAsync(Func<bool> condition, string failure)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), failure);
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private static async Task RunAsync(string script, string verb)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", [script, verb]) { RedirectStandardError = true })!;
        string errors = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        if (process.ExitCode != 0)
        {
            string reason = $"gateway.sh {verb} failed ({errors.Trim()}): this test needs the server of tests/s3-server/start.sh (S3_STATE_DIR)";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(reason);
            }

            Assert.Skip(reason);
        }
    }
}

using System.Net;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

/// <summary>GET /health/ready: the FlagExport health check as JSON; /health stays the relay proxy's liveness answer.</summary>
public sealed class ReadinessEndpointTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>
    /// An output folder that <see cref="BreakOutputFolder"/> puts under a regular file once started (start-up refuses a
    /// folder it cannot write): every write of exporter-0 fails. A short shutdown budget, so that stopping the collector
    /// does not wait 30 s for it.
    /// </summary>
    private Dictionary<string, string?> BrokenFeatureExporter()
    {
        string file = _directory.Combine("not-a-folder");
        return new Dictionary<string, string?>
        {
            ["exporters:0:outputDir"] = Path.Combine(file, "exports"),
            ["FlagExport:Exporters:exporter-0:ShutdownTimeout"] = "00:00:00.200",
        };
    }

    /// <summary>Replaces the folder of <see cref="BrokenFeatureExporter"/> by a regular file.</summary>
    private void BreakOutputFolder()
    {
        string file = _directory.Combine("not-a-folder");
        Directory.Delete(file, recursive: true);
        File.WriteAllText(file, "");
    }

    [Fact]
    public async Task Ready_EveryExporterWriting_Is200_WithEachExporter()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.Client.GetAsync("/health/ready", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            """{"status":"Healthy","exporters":[""" +
            """{"name":"exporter-0","status":"Healthy","reasons":[],"consecutiveFailures":0,"bufferedCount":0,"maxBufferedEvents":300000,"deadLetterBatchCount":0,"deadLetteredCount":0},""" +
            """{"name":"exporter-1","status":"Healthy","reasons":[],"consecutiveFailures":0,"bufferedCount":0,"maxBufferedEvents":300000,"deadLetterBatchCount":0,"deadLetteredCount":0}]}""",
            await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Ready_DurableBufferRefusedARequest_NamesWhyAsTheLastAppendFailure_UntilOneIsAccepted()
    {
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?>
        {
            ["bufferDirectory"] = _directory.Combine("buffer"),
            ["maxBufferBytes"] = "1048576",
        });
        string huge = new('v', 1_500_000); // more than one request can ever take in a 1 MiB buffer
        HttpResponseMessage refused = await collector.PostAsync($$"""{"events":[{"kind":"feature","userKey":"u","creationDate":1700000000,"key":"flag","variation":"on","value":"{{huge}}"}]}""");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);

        using (JsonDocument ready = JsonDocument.Parse(await collector.Client.GetStringAsync("/health/ready", TestContext.Current.CancellationToken)))
        {
            Assert.Equal("Healthy", ready.RootElement.GetProperty("status").GetString()); // a request too large is the client's to split
            Assert.Contains("more than one append can ever take", ready.RootElement.GetProperty("durableBuffer").GetProperty("lastAppendFailure").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync("""{"events":[{"kind":"feature","userKey":"u","creationDate":1700000000,"key":"flag","variation":"on","value":true}]}""")).StatusCode);
        using JsonDocument after = JsonDocument.Parse(await collector.Client.GetStringAsync("/health/ready", TestContext.Current.CancellationToken));
        Assert.False(after.RootElement.GetProperty("durableBuffer").TryGetProperty("lastAppendFailure", out _));
    }

    [Fact]
    public async Task Ready_BufferNearlyFull_Is503_NamingTheExporterAndWhy_AndHealthIsUnchanged()
    {
        Dictionary<string, string?> settings = BrokenFeatureExporter();
        settings["exporters:0:maxEventInMemory"] = "1";
        settings["exporters:0:maxBufferedEvents"] = "10";
        await using TestCollector collector = await TestCollector.StartAsync(settings);
        BreakOutputFolder();
        HttpResponseMessage posted = await collector.PostAsync(
            """{"events":[""" + string.Join(',', Enumerable.Range(0, 9).Select(i => $$"""{"kind":"feature","key":"f{{i}}","value":1}""")) + "]}");
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);

        HttpResponseMessage response = await collector.Client.GetAsync("/health/ready", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
        JsonElement[] exporters = [.. body.RootElement.GetProperty("exporters").EnumerateArray()];
        Assert.Equal("exporter-0", exporters[0].GetProperty("name").GetString());
        Assert.Equal("Unhealthy", exporters[0].GetProperty("status").GetString());
        Assert.Equal(
            """["its buffer is 90% full (9 of 10 events); new events are dropped once it is full"]""",
            exporters[0].GetProperty("reasons").GetRawText());
        Assert.Equal(9, exporters[0].GetProperty("bufferedCount").GetInt64());
        Assert.Equal(10, exporters[0].GetProperty("maxBufferedEvents").GetInt64());
        Assert.Equal("exporter-1", exporters[1].GetProperty("name").GetString());
        Assert.Equal("Healthy", exporters[1].GetProperty("status").GetString());
        Assert.Equal("[]", exporters[1].GetProperty("reasons").GetRawText());

        HttpResponseMessage liveness = await collector.Client.GetAsync("/health", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, liveness.StatusCode);
        Assert.Equal("""{"initialized":true}""", await liveness.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Ready_DeadLettersWritten_Is503_SayingWhereTheyAreAndHowToReplayThem()
    {
        string deadLetters = _directory.Combine("dead-letter");
        Dictionary<string, string?> settings = BrokenFeatureExporter();
        settings["deadLetterDirectory"] = deadLetters;
        settings["maxRetryDuration"] = "1"; // the first retry, after the 1 s backoff, sets the batch aside
        await using TestCollector collector = await TestCollector.StartAsync(settings);
        BreakOutputFolder();
        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync("""{"events":[{"kind":"feature","key":"f","value":1}]}""")).StatusCode);
        await Assert.ThrowsAsync<InvalidOperationException>(collector.FlushAsync);
        await WaitUntilAsync(() => DeadLetters.List(deadLetters).Count == 1);

        // The letter is on disk a moment before the pipeline counts it: ask until readiness reports it (bounded).
        HttpResponseMessage response;
        using (var cap = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            while (true)
            {
                response = await collector.Client.GetAsync("/health/ready", TestContext.Current.CancellationToken);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable || cap.IsCancellationRequested)
                {
                    break;
                }

                await Task.Delay(10, TestContext.Current.CancellationToken);
            }
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        JsonElement exporter = body.RootElement.GetProperty("exporters")[0];
        Assert.Equal("exporter-0", exporter.GetProperty("name").GetString());
        Assert.Equal(
            $"1 batches (1 events) were set aside as dead letters in {deadLetters}; fix the cause, then replay them with DeadLetters.ReplayAsync (this stays reported until the process restarts)",
            Assert.Single(exporter.GetProperty("reasons").EnumerateArray()).GetString());
        Assert.Equal(1, exporter.GetProperty("deadLetterBatchCount").GetInt64());
        Assert.Equal(0, exporter.GetProperty("bufferedCount").GetInt64());
    }

    [Fact]
    public async Task Ready_OtherMethods_Are405()
    {
        await using TestCollector collector = await TestCollector.StartAsync();

        HttpResponseMessage response = await collector.Client.PostAsync("/health/ready", new StringContent(""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cap = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cap.CancelAfter(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            await Task.Delay(20, cap.Token);
        }
    }
}

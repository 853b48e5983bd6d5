using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;
using static FlagExport.Collector.Tests.Support.OtlpRequests;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// OTLP requests into the collector process keep the guarantees of <c>/v1/data/collector</c>: with the durable buffer a
/// 200 means on disk (a SIGKILL and a restart lose and double nothing); in memory, a full buffer answers 503 with
/// Retry-After and a RetryInfo, and the same request sent again later is kept once.
/// </summary>
public sealed class OtlpDeliveryProcessTests : IDisposable
{
    private const int RequestSize = 50;
    private const long Time = 1_733_230_547_000_000_000;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>One OTLP logs request of an evaluation per user key (its feature_flag.context.id), plus a record that is not one.</summary>
    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string address, IEnumerable<string> userKeys)
    {
        OtlpLogRecord[] records =
        [
            .. userKeys.Select(key => new OtlpLogRecord("feature_flag.evaluation", Time,
                Attribute("feature_flag.key", "flag"), Attribute("feature_flag.result.variant", "v"), Attribute("feature_flag.result.value", 1L),
                Attribute("feature_flag.context.id", key))),
            new OtlpLogRecord("http.server.request", Time, Attribute("url.path", "/checkout")),
        ];
        var content = new ByteArrayContent(Logs("delivery-test", records));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        HttpResponseMessage response = await client.PostAsync(address + "/v1/logs", content, Token);
        await response.Content.LoadIntoBufferAsync(Token);
        return response;
    }

    [Fact]
    public async Task DurableBuffer_Sigkill_DuringAnOutage_ThenRestart_ExportsEveryAcknowledgedEvaluationOnce()
    {
        const int Evaluations = 1_000;
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("otlp-crash");
        await using FaultProxy proxy = FaultProxy.Start(new Uri(s3.Endpoint));
        proxy.BlackHole();
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), DurableCollector.Yaml(_directory, s3, proxy.Endpoint, prefix), Token);
        try
        {
            var acknowledged = new List<string>();
            using (CollectorProcess first = DurableCollector.Start(_directory))
            {
                string address = await first.WaitUntilListeningAsync();
                using var client = new HttpClient();
                for (int i = 0; i < Evaluations; i += RequestSize)
                {
                    string[] keys = DurableCollector.Keys("otlp", i, RequestSize);
                    using HttpResponseMessage response = await PostAsync(client, address, keys);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    acknowledged.AddRange(keys);
                }

                await DurableCollector.WaitUntilAsync(() => Task.FromResult(proxy.FaultsInjected > 0), "an upload reached the proxy");
                first.Kill();
            }

            proxy.Pass();
            using CollectorProcess second = DurableCollector.Start(_directory);
            _ = await second.WaitUntilListeningAsync();
            SortedDictionary<string, string[]> objects = await DurableCollector.WaitForKeysAsync(s3, prefix, acknowledged, second);

            DurableCollector.AssertExactlyOnce(objects, acknowledged, acknowledged.ToHashSet(StringComparer.Ordinal));
            DurableCollector.AssertNoDeadLetters(_directory);
        }
        finally
        {
            await s3.DeleteAllAsync(prefix);
        }
    }

    [Fact]
    public async Task MemoryMode_FullBuffer_Answers503WithRetryAfterAndRetryInfo_AndTheRetriedRequestIsKeptOnce()
    {
        string exports = _directory.Combine("exports");
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), """
            bufferDirectory: ""
            exporters:
              - kind: file
                outputDir: ./exports
                format: json
                flushInterval: 100
                maxEventInMemory: 100
                maxBufferedEvents: 200
            """, Token);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string address = await collector.WaitUntilListeningAsync();

        // The exporter's folder becomes a file: every export fails, and the events stay buffered until it is a folder again.
        Directory.Delete(exports, recursive: true);
        await File.WriteAllTextAsync(exports, "not a folder", Token);
        using var client = new HttpClient();

        var acknowledged = new List<string>();
        string[] refusedKeys = [];
        HttpResponseMessage? refusal = null;
        for (int i = 0; refusal is null; i += RequestSize)
        {
            Assert.True(i < 10_000, "Never refused although the exporter cannot write.");
            string[] keys = DurableCollector.Keys("full", i, RequestSize);
            HttpResponseMessage response = await PostAsync(client, address, keys);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                acknowledged.AddRange(keys);
                response.Dispose();
            }
            else
            {
                (refusal, refusedKeys) = (response, keys);
            }
        }

        using (refusal)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refusal.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), refusal.Headers.RetryAfter?.Delta);
            // UNAVAILABLE, with a RetryInfo detail of the same delay.
            (int code, _, long? delaySeconds) = OtlpAnswers.Status(await refusal.Content.ReadAsByteArrayAsync(Token));
            Assert.Equal((14, 2L), (code, delaySeconds));
        }

        File.Delete(exports);
        // What an OTLP exporter does after the delay: the same request again, until it is kept.
        await DurableCollector.WaitUntilAsync(async () =>
        {
            using HttpResponseMessage retried = await PostAsync(client, address, refusedKeys);
            return retried.StatusCode == HttpStatusCode.OK;
        }, "the refused request is kept once the exporter writes again");
        acknowledged.AddRange(refusedKeys);

        collector.Signal("TERM");
        Assert.Equal(0, await collector.WaitForExitAsync());
        string[] written = [.. Directory.GetFiles(exports).SelectMany(File.ReadAllLines)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!)];
        Assert.Equal(acknowledged.Order(StringComparer.Ordinal), written.Order(StringComparer.Ordinal));
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Webhook;

/// <summary>
/// Collector processes chained by the webhook exporter, with a fault proxy between them that loses the receiver's
/// answer after the receiver acted on the request: the sender retries under the same <c>Idempotency-Key</c>, and the
/// receiver keeps the events once, across a SIGKILL too (the key in its durable buffer's log, or in its key journal once
/// the log's segments are gone).
/// </summary>
public sealed class IdempotentChainTests : IDisposable
{
    private const string Secret = "chain-secret";
    private const string SenderExporter = "chain";

    private const string Body = """{"meta":{"hostname":"provider-1"},"events":[""" +
        """{"kind":"feature","contextKind":"user","userKey":"u1","creationDate":1733230547,"key":"checkout","variation":"on","value":{"a":[1,2.5,"<x>"]},"default":false,"version":"v1","source":"PROVIDER_CACHE"},""" +
        """{"kind":"feature","contextKind":"anonymousUser","userKey":"ü2","creationDate":1733230548,"key":"checkout","variation":"off","value":"\u2028","default":true,"version":"v1","source":"PROVIDER_CACHE"}]}""";

    private readonly TempDirectory _directory = new();
    private readonly string _receiverDirectory;
    private readonly string _senderDirectory;
    private readonly int _receiverPort = FreePort();

    public IdempotentChainTests()
    {
        _receiverDirectory = Directory.CreateDirectory(_directory.Combine("receiver")).FullName;
        _senderDirectory = Directory.CreateDirectory(_directory.Combine("sender")).FullName;
    }

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task AnAnswerLostAfterTheReceiverKeptTheBatch_IsRetriedUnderTheSameKey_AndKeptOnce()
    {
        using CollectorProcess receiver = await StartReceiverAsync();
        await using FaultProxy proxy = FaultProxy.Start(new Uri($"http://127.0.0.1:{_receiverPort}"));
        int dropped = 0;
        proxy.DropResponse(line => line.StartsWith("POST /v1/data/collector", StringComparison.Ordinal) && Interlocked.Increment(ref dropped) <= 2);
        using CollectorProcess sender = await StartSenderAsync(proxy.Endpoint);

        await PostToSenderAsync(sender);
        await sender.WaitForOutputAsync($"Exporter '{SenderExporter}' wrote again after 2 failed attempts.");

        Assert.Equal(2, proxy.FaultsInjected);
        await StopAsync(sender);
        await StopAsync(receiver);
        AssertReceiverWroteWhatTheSenderWrote();
        Assert.Contains("Answered a retry of the request acknowledged at", receiver.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReceiverKilledAfterItAcknowledged_AnswersTheRetryAfterItsRestart_AsADuplicate()
    {
        CollectorProcess receiver = await StartReceiverAsync();
        await using FaultProxy proxy = FaultProxy.Start(new Uri($"http://127.0.0.1:{_receiverPort}"));
        proxy.DropResponse();
        using CollectorProcess sender = await StartSenderAsync(proxy.Endpoint);
        try
        {
            await PostToSenderAsync(sender);
            await WaitUntilAsync(() => proxy.FaultsInjected >= 1); // acknowledged (on disk), answer lost
            receiver = await KillRestartAndDrainAsync(receiver, proxy, sender);
        }
        finally
        {
            receiver.Dispose();
        }

        AssertReceiverWroteWhatTheSenderWrote();
        Assert.Contains("Answered a retry of the request acknowledged at", receiver.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReceiverKilledAfterTheKeysSegmentWasReleased_FindsTheKeyInItsJournal()
    {
        CollectorProcess receiver = await StartReceiverAsync();
        await using FaultProxy proxy = FaultProxy.Start(new Uri($"http://127.0.0.1:{_receiverPort}"));
        proxy.DropResponse();
        using CollectorProcess sender = await StartSenderAsync(proxy.Endpoint);
        bool journaled;
        try
        {
            await PostToSenderAsync(sender);
            await WaitUntilAsync(() => proxy.FaultsInjected >= 1);
            string keySegment = Segments().First();

            // Other requests, straight to the receiver, fill its log past the segment that holds the key; once they are
            // exported the segment is deleted, its key in the journal first.
            using (var client = new HttpClient())
            {
                int refusals = 0;
                for (int i = 0; File.Exists(keySegment); i++)
                {
                    Assert.True(i < 200, $"The segment {keySegment} was not released. Output:{Environment.NewLine}{receiver.Output}");
                    HttpResponseMessage answer;
                    while ((answer = await client.PostAsync($"http://127.0.0.1:{_receiverPort}/v1/data/collector", Filler(i), Cancellation)).StatusCode
                        == HttpStatusCode.ServiceUnavailable)
                    {
                        // The small buffer is full until the exporter catches up: send the request again, as a provider does after a 503.
                        Assert.True(++refusals < 1200, $"The receiver kept refusing. Output:{Environment.NewLine}{receiver.Output}");
                        await Task.Delay(50, Cancellation);
                    }

                    Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                }
            }

            // Checked after the events: without key handling there is no journal, and the duplicate is what matters.
            journaled = File.Exists(Path.Combine(_receiverDirectory, "buffer", "idempotency-keys"));
            receiver = await KillRestartAndDrainAsync(receiver, proxy, sender);
        }
        finally
        {
            receiver.Dispose();
        }

        string sent = ReadAll(Path.Combine(_senderDirectory, "json"));
        string received = ReadAll(Path.Combine(_receiverDirectory, "json"));
        Assert.Equal(2, sent.Count(c => c == '\n'));
        Assert.Equal(1, CountOccurrences(received, "\"userKey\":\"u1\""));
        Assert.Contains(sent, received, StringComparison.Ordinal);
        Assert.True(journaled, "The key's segment was deleted without the key in the journal.");
        Assert.Contains("Answered a retry of the request acknowledged at", receiver.Output, StringComparison.Ordinal);
    }

    /// <summary>The receiver: durable, a small buffer (64 KiB segments), admitting the sender by <c>webhookSecret</c>, writing JSON lines.</summary>
    private async Task<CollectorProcess> StartReceiverAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(_receiverDirectory, "collector.yaml"), """
            webhookSecret: chain-secret
            bufferDirectory: ./buffer
            maxBufferBytes: 1048576
            exporters:
              - kind: file
                outputDir: ./json
                flushInterval: 100
            """, Cancellation);
        CollectorProcess receiver = CollectorProcess.Start(
            _receiverDirectory, ["--config", "collector.yaml", "--urls", $"http://127.0.0.1:{_receiverPort}"]);
        _ = await receiver.WaitUntilListeningAsync();
        return receiver;
    }

    /// <summary>The sender: durable, a file exporter beside the webhook to the receiver (through <paramref name="endpoint"/>).</summary>
    private async Task<CollectorProcess> StartSenderAsync(Uri endpoint)
    {
        await File.WriteAllTextAsync(Path.Combine(_senderDirectory, "collector.yaml"), $"""
            bufferDirectory: ./buffer
            exporters:
              - kind: file
                outputDir: ./json
              - kind: webhook
                name: {SenderExporter}
                endpointUrl: {endpoint.ToString().TrimEnd('/')}/v1/data/collector
                secret: {Secret}
                verifyEndpointOnStart: false  # the receiver may be down (killed) when the sender starts
                flushInterval: 100
                meta:
                  hostname: provider-1
            """, Cancellation);
        CollectorProcess sender = CollectorProcess.Start(_senderDirectory, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        _ = await sender.WaitUntilListeningAsync();
        return sender;
    }

    private static async Task PostToSenderAsync(CollectorProcess sender)
    {
        string address = await sender.WaitUntilListeningAsync();
        using var client = new HttpClient();
        HttpResponseMessage answer = await client.PostAsync(address + "/v1/data/collector", new StringContent(Body, Encoding.UTF8, "application/json"), Cancellation);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    private static async Task StopAsync(CollectorProcess collector)
    {
        collector.Signal("TERM");
        Assert.True(await collector.WaitForExitAsync() == 0, collector.Output);
    }

    /// <summary>Both ends hold the same bytes: every event once at the receiver.</summary>
    /// <summary>
    /// SIGKILLs the receiver, lets answers through again and starts it anew on the same buffer; once the sender's retry
    /// was written, stops both. Returns the new receiver, for its output.
    /// </summary>
    private async Task<CollectorProcess> KillRestartAndDrainAsync(CollectorProcess receiver, FaultProxy proxy, CollectorProcess sender)
    {
        receiver.Kill();
        proxy.Pass();
        receiver.Dispose();
        CollectorProcess restarted = await StartReceiverAsync();

        await sender.WaitForOutputAsync($"Exporter '{SenderExporter}' wrote again after");
        await StopAsync(sender);
        await StopAsync(restarted);
        return restarted;
    }

    private void AssertReceiverWroteWhatTheSenderWrote()
    {
        string sent = ReadAll(Path.Combine(_senderDirectory, "json"));
        Assert.Equal(2, sent.Count(c => c == '\n'));
        Assert.Equal(sent, ReadAll(Path.Combine(_receiverDirectory, "json")));
    }

    private string[] Segments() =>
        [.. Directory.GetFiles(Path.Combine(_receiverDirectory, "buffer", "log"), "*.seg").Order(StringComparer.Ordinal)];

    /// <summary>About 64 KiB of other events, admitted by the signature as the sender's are.</summary>
    private static ByteArrayContent Filler(int request)
    {
        var body = new StringBuilder("""{"events":[""");
        for (int i = 0; i < 200; i++)
        {
            _ = body.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                $$"""{"kind":"feature","contextKind":"user","userKey":"filler-{{request}}-{{i}}","creationDate":1733230600,"key":"padding","variation":"v","value":"{{new string('x', 200)}}","default":false}""");
        }

        byte[] bytes = Encoding.UTF8.GetBytes(body.Append("]}").ToString());
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), bytes)));
        return content;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    private static int CountOccurrences(string text, string value)
    {
        int count = 0;
        for (int at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string ReadAll(string directory) =>
        string.Concat(Directory.GetFiles(directory).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).Select(File.ReadAllText));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

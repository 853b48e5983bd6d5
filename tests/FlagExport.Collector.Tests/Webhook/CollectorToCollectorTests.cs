using System.Net;
using System.Text;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Webhook;

/// <summary>
/// Two collector processes chained by the webhook exporter: the first writes files and posts feature and tracking
/// events to the second, which checks the signature with <c>webhookSecret</c>; both write the same bytes.
/// </summary>
public sealed class CollectorToCollectorTests : IDisposable
{
    private const string Secret = "chain-secret";

    // The provider's meta becomes the feature events' metadata at the first collector (go-feature-flag's rule). The
    // webhook's meta differs: the second collector keeps each event's own metadata, as the webhook exporter asks, so both
    // ends hold the same events. Tracking events travel through their own webhook entry.
    private const string Body = """{"meta":{"hostname":"provider-1","sdk":"js"},"events":[""" +
        """{"kind":"feature","contextKind":"user","userKey":"u1","creationDate":1733230547,"key":"checkout","variation":"on","value":{"a":[1,2.5,"<x>"]},"default":false,"version":"v1","source":"PROVIDER_CACHE"},""" +
        """{"kind":"tracking","contextKind":"user","userKey":"u1","creationDate":1733230547,"key":"clicked","evaluationContext":{"targetingKey":"u1","plan":"pro"},"trackingEventDetails":{"amount":12.5}},""" +
        """{"kind":"feature","contextKind":"anonymousUser","userKey":"ü2","creationDate":1733230548,"key":"checkout","variation":"off","value":"\u2028","default":true,"version":"v1","source":"PROVIDER_CACHE"},""" +
        """{"kind":"tracking","userKey":"ü2","creationDate":1733230549,"key":"bought"}]}""";

    private readonly TempDirectory _directory = new();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task TheSecondCollectorWrites_ExactlyWhatTheFirstWrites()
    {
        string second = Directory.CreateDirectory(_directory.Combine("second")).FullName;
        string first = Directory.CreateDirectory(_directory.Combine("first")).FullName;
        await File.WriteAllTextAsync(Path.Combine(second, "collector.yaml"), $"""
            webhookSecret: {Secret}
            exporters:
              - kind: file
                outputDir: ./json
              - kind: file
                outputDir: ./tracking
                eventType: tracking
            """, Cancellation);
        using CollectorProcess receiver = CollectorProcess.Start(second, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string receiverAddress = await receiver.WaitUntilListeningAsync();
        await File.WriteAllTextAsync(Path.Combine(first, "collector.yaml"), $"""
            exporters:
              - kind: file
                outputDir: ./json
              - kind: file
                outputDir: ./tracking
                eventType: tracking
              - kind: webhook
                endpointUrl: {receiverAddress}/v1/data/collector
                secret: {Secret}
                meta:
                  hostname: collector-1
              - kind: webhook
                endpointUrl: {receiverAddress}/v1/data/collector
                secret: {Secret}
                eventType: tracking
            """, Cancellation);
        using CollectorProcess sender = CollectorProcess.Start(first, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string senderAddress = await sender.WaitUntilListeningAsync();

        using (var client = new HttpClient())
        {
            HttpResponseMessage answer = await client.PostAsync(senderAddress + "/v1/data/collector", new StringContent(Body, Encoding.UTF8, "application/json"), Cancellation);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        sender.Signal("TERM"); // its last flush posts to the receiver before it exits
        Assert.True(await sender.WaitForExitAsync() == 0, sender.Output);
        receiver.Signal("TERM");
        Assert.True(await receiver.WaitForExitAsync() == 0, receiver.Output);

        string written = ReadAll(Path.Combine(first, "json"));
        Assert.Equal(2, written.Count(c => c == '\n'));
        Assert.Contains("\"metadata\":{\"hostname\":\"provider-1\",\"sdk\":\"js\"}", written, StringComparison.Ordinal);
        Assert.Equal(written, ReadAll(Path.Combine(second, "json")));

        string tracked = ReadAll(Path.Combine(first, "tracking"));
        Assert.Equal(2, tracked.Count(c => c == '\n'));
        Assert.Equal(tracked, ReadAll(Path.Combine(second, "tracking")));
    }

    private static string ReadAll(string directory) =>
        string.Concat(Directory.GetFiles(directory).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).Select(File.ReadAllText));
}

using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Webhook;

/// <summary>
/// <c>validate --check-connectivity</c> and start-up for <c>kind: webhook</c>: a <c>HEAD</c> to <c>endpointUrl</c>, where
/// any HTTP answer counts as reachable and a connection that fails is one line naming the entry, the key and the value.
/// </summary>
public sealed class WebhookConnectivityTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task CheckConnectivity_ACollectorReceiverPasses_ARefusedPortFailsNamingEndpointUrlAndTheValue()
    {
        string receiverFolder = Directory.CreateDirectory(_directory.Combine("receiver")).FullName;
        await File.WriteAllTextAsync(Path.Combine(receiverFolder, "collector.yaml"), """
            webhookSecret: s3cret
            exporters:
              - kind: file
                outputDir: ./json
            """, Cancellation);
        using CollectorProcess receiver = CollectorProcess.Start(receiverFolder, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string reachable = await receiver.WaitUntilListeningAsync() + "/v1/data/collector";
        string refused = $"http://127.0.0.1:{ClosedPort.Next()}/v1/data/collector";
        await WriteAsync($"""
            exporters:
              - kind: webhook
                endpointUrl: {reachable}
                secret: s3cret
              - kind: webhook
                endpointUrl: {refused}
            """);

        using (CollectorProcess offline = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml"]))
        {
            Assert.Equal(0, await offline.WaitForExitAsync()); // no request without --check-connectivity
        }

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml", "--check-connectivity"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        string line = Assert.Single(collector.Output.Split('\n'), l => l.Contains("exporters[1]", StringComparison.Ordinal));
        Assert.StartsWith($"  exporters[1].endpointUrl: The webhook endpoint '{refused}' cannot be reached: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("exporters[0]", collector.Output, StringComparison.Ordinal);

        receiver.Signal("TERM");
        Assert.True(await receiver.WaitForExitAsync() == 0, receiver.Output);
        Assert.Empty(Directory.Exists(Path.Combine(receiverFolder, "json")) ? Directory.GetFiles(Path.Combine(receiverFolder, "json")) : []);
    }

    [Fact]
    public async Task CheckConnectivity_AReceiverThatAnswers401_IsReachable_AndTheAnswerIsPrinted()
    {
        // A HEAD carries no signed body: a receiver may refuse it and still accept the posts. Credentials are proven by
        // the first post, whose 401 is a permanent failure.
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        receiver.HeadStatus = 401;
        await WriteAsync($"""
            exporters:
              - kind: webhook
                endpointUrl: {receiver.Url}
            """);

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml", "--check-connectivity"]);

        Assert.True(await collector.WaitForExitAsync() == 0, collector.Output);
        Assert.Contains("configuration and connectivity OK", collector.Output, StringComparison.Ordinal);
        Assert.Contains($"to {receiver.Url} (reachable: HEAD answered 401 Unauthorized)", collector.Output, StringComparison.Ordinal);
        Assert.Equal(1, receiver.HeadRequests);
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task StartUp_WithARefusedEndpoint_FailsNamingTheKey_UnlessVerifyEndpointOnStartIsOff()
    {
        string refused = $"http://127.0.0.1:{ClosedPort.Next()}/hook";
        await WriteAsync($"""
            exporters:
              - kind: webhook
                endpointUrl: {refused}
            """);

        using (CollectorProcess failed = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]))
        {
            Assert.Equal(ExitCodes.StartFailed, await failed.WaitForExitAsync());
            Assert.Contains($"Cannot start the collector: exporters[0].endpointUrl: The webhook endpoint '{refused}' cannot be reached: ", failed.Output, StringComparison.Ordinal);
            Assert.Contains("Set VerifyEndpointOnStart to false if the receiver may start later.", failed.Output, StringComparison.Ordinal);
        }

        await WriteAsync($"""
            exporters:
              - kind: webhook
                endpointUrl: {refused}
                verifyEndpointOnStart: false
            """);
        using CollectorProcess started = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        _ = await started.WaitUntilListeningAsync();
        started.Signal("TERM");
        Assert.True(await started.WaitForExitAsync() == 0, started.Output);
    }

    private Task WriteAsync(string yaml) => File.WriteAllTextAsync(_directory.Combine("collector.yaml"), yaml, Cancellation);
}

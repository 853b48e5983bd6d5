using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Exporters;

/// <summary>
/// <see cref="WebhookExporter"/> against a real HTTP endpoint: what it posts is go-feature-flag's webhook request byte
/// for byte, and how each answer is classified.
/// </summary>
public sealed class WebhookExporterTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    // go-feature-flag's webhook exporter test data (exporter/webhookexporter/testdata), compact as json.Marshal writes it.
    private static readonly FeatureEvent[] Events =
    [
        new() { ContextKind = "anonymousUser", UserKey = "ABCD", CreationDate = 1617970547, Key = "random-key", Variation = "Default", Value = FlagValue.FromString("YO"), Version = "" },
        new() { ContextKind = "anonymousUser", UserKey = "EFGH", CreationDate = 1617970701, Key = "random-key", Variation = "Default", Value = FlagValue.FromString("YO2"), Version = "127" },
    ];

    private const string ExpectedBody =
        """{"meta":{"env":"\u003cprod\u003e","hostname":"hostname"},"events":[""" +
        """{"kind":"feature","contextKind":"anonymousUser","userKey":"ABCD","creationDate":1617970547,"key":"random-key","variation":"Default","value":"YO","default":false,"version":"","source":"SERVER"},""" +
        """{"kind":"feature","contextKind":"anonymousUser","userKey":"EFGH","creationDate":1617970701,"key":"random-key","variation":"Default","value":"YO2","default":false,"version":"127","source":"SERVER"}]}""";

    private static WebhookExporterOptions Options(string url, string? secret = null)
    {
        var options = new WebhookExporterOptions { EndpointUrl = url, Secret = secret };
        options.Meta["hostname"] = "hostname";
        options.Meta["env"] = "<prod>";
        return options;
    }

    private static string Sign(byte[] body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    [Fact]
    public async Task ABatch_IsPostedAsGoFeatureFlagPostsIt_Signed_WithTheConfiguredHeaders_AndItsIdAsIdempotencyKeyOnEveryAttempt()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        WebhookExporterOptions options = Options(receiver.Url, secret: "s3cret");
        options.Headers["Authorization"] = ["Bearer token-1"];
        options.Headers["X-Team"] = ["flags", "platform"];
        options.Headers["Content-Type"] = ["text/plain"]; // the exporter's own wins, as in go-feature-flag
        options.Headers["FlagExport-Event-Metadata"] = ["replace"]; // so does this one
        using var exporter = new WebhookExporter(options);
        var batch = new ExportBatch(Events);

        await exporter.ExportAsync(batch, Cancellation);
        await exporter.ExportAsync(batch, Cancellation); // the same batch again: a retry

        WebhookReceiver.Received[] requests = [.. receiver.Requests];
        Assert.Equal(2, requests.Length);
        foreach (WebhookReceiver.Received request in requests)
        {
            Assert.Equal(ExpectedBody, Encoding.UTF8.GetString(request.Body));
            Assert.Equal("application/json", request.Header("Content-Type"));
            Assert.Equal(Sign(request.Body, "s3cret"), request.Header("X-Hub-Signature-256"));
            Assert.Equal("Bearer token-1", request.Header("Authorization"));
            Assert.Equal("flags, platform", request.Header("X-Team"));
            Assert.Equal(batch.Id, request.Header("Idempotency-Key"));
            Assert.Equal("own", request.Header("FlagExport-Event-Metadata"));
        }
    }

    // go-feature-flag's TrackingEvent as its json.Marshal writes it (exporter/tracking_event.go and its tests): no
    // metadata, map keys sorted, a missing map as null, contextKind left out when empty.
    private static readonly TrackingEvent[] TrackingEvents =
    [
        new()
        {
            ContextKind = "anonymousUser", UserKey = "ABCD", CreationDate = 1617970547, Key = "random-key",
            EvaluationContext = new Dictionary<string, FlagValue> { ["toto"] = 123, ["targetingKey"] = FlagValue.FromString("ABCD") },
            TrackingEventDetails = new Dictionary<string, FlagValue> { ["event"] = FlagValue.FromString("123") },
        },
        new() { ContextKind = "", UserKey = "EFGH", CreationDate = 1617970701, Key = "checkout" },
    ];

    private const string ExpectedTrackingBody =
        """{"meta":{"env":"\u003cprod\u003e","hostname":"hostname"},"events":[""" +
        """{"kind":"tracking","contextKind":"anonymousUser","userKey":"ABCD","creationDate":1617970547,"key":"random-key","evaluationContext":{"targetingKey":"ABCD","toto":123},"trackingEventDetails":{"event":"123"}},""" +
        """{"kind":"tracking","userKey":"EFGH","creationDate":1617970701,"key":"checkout","evaluationContext":null,"trackingEventDetails":null}]}""";

    [Fact]
    public async Task ATrackingBatch_IsPostedAsGoFeatureFlagPostsIt()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        using var exporter = new WebhookExporter(Options(receiver.Url, secret: "s3cret"), EventType.Tracking);

        await exporter.ExportAsync(new ExportBatch(TrackingEvents), Cancellation);

        WebhookReceiver.Received request = Assert.Single(receiver.Requests);
        Assert.Equal(ExpectedTrackingBody, Encoding.UTF8.GetString(request.Body));
        Assert.Equal(Sign(request.Body, "s3cret"), request.Header("X-Hub-Signature-256"));
    }

    [Fact]
    public async Task WithoutASecretOrAHostname_TheBodyIsUnsigned_AndMetaNamesTheHost()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        using var exporter = new WebhookExporter(new WebhookExporterOptions { EndpointUrl = receiver.Url, Secret = "" });

        await exporter.ExportAsync(new ExportBatch(Events[..1]), Cancellation);

        WebhookReceiver.Received request = Assert.Single(receiver.Requests);
        Assert.Null(request.Header("X-Hub-Signature-256"));
        string body = Encoding.UTF8.GetString(request.Body);
        Assert.StartsWith($$"""{"meta":{"hostname":"{{Dns.GetHostName()}}"},"events":[{"kind":"feature",""", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(500, false)]
    [InlineData(503, false)]
    [InlineData(408, false)]
    [InlineData(429, false)]
    [InlineData(302, false)]
    [InlineData(400, true)]
    [InlineData(401, true)]
    [InlineData(404, true)]
    [InlineData(413, true)]
    public async Task ANon2xxAnswer_IsAFailedAttempt_Permanent4xxOtherThan408And429(int status, bool permanent)
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(status);
        using var exporter = new WebhookExporter(Options(receiver.Url + "?token=hidden"));
        var batch = new ExportBatch(Events);

        WebhookExportException error = await Assert.ThrowsAsync<WebhookExportException>(() => exporter.ExportAsync(batch, Cancellation));

        Assert.Equal(permanent, error.IsPermanent);
        Assert.Equal((HttpStatusCode)status, error.StatusCode);
        Assert.Contains(receiver.Url, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hidden", error.Message, StringComparison.Ordinal);
        Assert.Contains($"answered {status}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"answer {status}", error.Message, StringComparison.Ordinal); // the receiver's own words
        Assert.Contains(batch.Id, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEndpointThatDoesNotListen_IsATransientFailure()
    {
        int port = ClosedPort.Next();
        using var exporter = new WebhookExporter(Options($"http://127.0.0.1:{port}/hook"));

        WebhookExportException error = await Assert.ThrowsAsync<WebhookExportException>(() => exporter.ExportAsync(new ExportBatch(Events), Cancellation));

        Assert.False(error.IsPermanent);
        Assert.Null(error.StatusCode);
        Assert.Contains($"http://127.0.0.1:{port}/hook", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> InvalidOptions => new()
    {
        { "endpoint", "", "EndpointUrl must be an absolute http or https URL, such as 'https://example.com/webhook'; got ''." },
        { "endpoint", "/v1/data/collector", "got '/v1/data/collector'" },
        { "endpoint", "ftp://example.com/hook", "got 'ftp://example.com/hook'" },
        { "secret", "  ", "Secret is blank" },
        { "header name", "Bad Header", "Headers:Bad Header is not a valid HTTP header name; got 'Bad Header'." },
        { "header without value", "X-Empty", "Headers:X-Empty has no value" },
        { "header value", "line\nbreak", "Headers:X-Value has a value with a line break or NUL" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidOptions_AreRefused_NamingTheOptionAndTheValue(string what, string value, string expected)
    {
        var options = new WebhookExporterOptions { EndpointUrl = "http://127.0.0.1:1/hook" };
        switch (what)
        {
            case "endpoint": options.EndpointUrl = value; break;
            case "secret": options.Secret = value; break;
            case "header name": options.Headers[value] = ["v"]; break;
            case "header without value": options.Headers[value] = []; break;
            default: options.Headers["X-Value"] = [value]; break;
        }

        ArgumentException error = Assert.ThrowsAny<ArgumentException>(() => new WebhookExporter(options));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InThePipeline_A500IsRetriedWithTheSameBodyAndKey_UntilAccepted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(500, 503);
        using var exporter = new WebhookExporter(Options(receiver.Url, secret: "s3cret"));
        await using var pipeline = new DataExporter(exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1) }, time);
        foreach (FeatureEvent e in Events)
        {
            Assert.True(pipeline.Add(e));
        }

        _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(Cancellation));
        await WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(5));
            return receiver.Requests.Any(r => r.Status == 200);
        }, "the retry is accepted");

        WebhookReceiver.Received[] requests = [.. receiver.Requests];
        Assert.Equal([500, 503, 200], requests.Select(r => r.Status));
        Assert.All(requests, r => Assert.Equal(ExpectedBody, Encoding.UTF8.GetString(r.Body)));
        Assert.Single(requests.Select(r => r.Header("Idempotency-Key")).Distinct());
        Assert.Equal(0, pipeline.DeadLetterBatchCount);
    }

    [Theory]
    [InlineData(413)]
    [InlineData(400)]
    public async Task InThePipeline_APermanentAnswerSetsTheBatchAsideAtOnce_WithTheBodyItPosted(int status)
    {
        using var folder = new TempDirectory();
        string letters = Path.Combine(folder.Path, "dead-letter");
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(status);
        using var exporter = new WebhookExporter(Options(receiver.Url));
        await using var pipeline = new DataExporter(exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), DeadLetterDirectory = letters });
        foreach (FeatureEvent e in Events)
        {
            Assert.True(pipeline.Add(e));
        }

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(Cancellation));

        Assert.Contains("set aside as a dead letter", error.Message, StringComparison.Ordinal);
        WebhookReceiver.Received request = Assert.Single(receiver.Requests); // not retried
        string letter = Assert.Single(DeadLetters.List(letters));
        Assert.Equal(request.Body, await File.ReadAllBytesAsync(Path.Combine(letter, "webhook-body.json"), Cancellation));
    }

    [Fact]
    public async Task InThePipeline_AnAnswerThatNeverComes_TimesOutAndIsRetriedWithTheSameKey()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(WebhookReceiver.Hang);
        using var exporter = new WebhookExporter(Options(receiver.Url));
        await using var pipeline = new DataExporter(
            exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), ExportTimeout = TimeSpan.FromSeconds(10) }, time);
        Assert.True(pipeline.Add(Events[0]));

        Task flush = pipeline.FlushAsync(Cancellation);
        await WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(5));
            return receiver.Requests.Any(r => r.Status == 200);
        }, "the retry after the timeout is accepted");
        _ = await Record.ExceptionAsync(() => flush); // the flush reports the first attempt's outcome

        WebhookReceiver.Received[] requests = [.. receiver.Requests];
        Assert.Equal([WebhookReceiver.Hang, 200], requests.Select(r => r.Status));
        Assert.Equal(requests[0].Header("Idempotency-Key"), requests[1].Header("Idempotency-Key"));
    }

    [Fact]
    public async Task InThePipeline_A2xxThatComesAfterTheTimeout_IsRetriedWithTheSameKeyAndBody()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(WebhookReceiver.LateOk);
        using var exporter = new WebhookExporter(Options(receiver.Url));
        await using var pipeline = new DataExporter(
            exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), ExportTimeout = TimeSpan.FromSeconds(10) }, time);
        foreach (FeatureEvent e in Events)
        {
            Assert.True(pipeline.Add(e));
        }

        Task flush = pipeline.FlushAsync(Cancellation);
        await WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(5));
            return receiver.Requests.Any(r => r.Status == 200);
        }, "the retry after the timeout is accepted");
        _ = await Record.ExceptionAsync(() => flush);

        // The receiver kept the first attempt but its 200 came too late: the retry carries the same key, so a receiver
        // that remembers keys answers it without keeping the batch twice.
        WebhookReceiver.Received[] requests = [.. receiver.Requests];
        Assert.Equal([WebhookReceiver.LateOk, 200], requests.Select(r => r.Status));
        Assert.Equal(requests[0].Header("Idempotency-Key"), requests[1].Header("Idempotency-Key"));
        Assert.Equal(requests[0].Body, requests[1].Body);
        Assert.Equal(0, pipeline.DeadLetterBatchCount);
    }

    [Theory]
    [InlineData(405)]
    [InlineData(401)]
    [InlineData(200)]
    public async Task VerifyEndpoint_AnyHttpAnswerIsReachable_AndPostsNothing(int status)
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        receiver.HeadStatus = status;
        using var exporter = new WebhookExporter(Options(receiver.Url));

        HttpStatusCode answered = await exporter.VerifyEndpointAsync(Cancellation);

        Assert.Equal((HttpStatusCode)status, answered);
        Assert.Equal(1, receiver.HeadRequests);
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task VerifyEndpoint_ARefusedPort_FailsNamingTheEndpoint()
    {
        string url = $"http://127.0.0.1:{ClosedPort.Next()}/hook";
        using var exporter = new WebhookExporter(Options(url + "?token=hidden"));

        WebhookExportException error = await Assert.ThrowsAsync<WebhookExportException>(() => exporter.VerifyEndpointAsync(Cancellation));

        Assert.StartsWith($"The webhook endpoint '{url}' cannot be reached: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hidden", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task VerifyEndpoint_AFailedTlsHandshake_FailsOnOneLineNamingTheEndpoint()
    {
        // An https URL to a plain-HTTP listener: the connection opens, the TLS handshake fails.
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        string url = "https" + receiver.Url["http".Length..];
        using var exporter = new WebhookExporter(Options(url));

        WebhookExportException error = await Assert.ThrowsAsync<WebhookExportException>(() => exporter.VerifyEndpointAsync(Cancellation));

        Assert.StartsWith($"The webhook endpoint '{url}' cannot be reached: the TLS handshake failed: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("see inner exception", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(0, receiver.HeadRequests);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var cap = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        cap.CancelAfter(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cap.Token);
            }
            catch (OperationCanceledException) when (!Cancellation.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
        }
    }
}

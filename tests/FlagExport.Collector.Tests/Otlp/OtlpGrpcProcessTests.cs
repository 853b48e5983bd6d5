using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using FlagExport.Collector.Otlp;
using FlagExport.Collector.Tests.Support;
using Grpc.Core;
using static FlagExport.Collector.Tests.Support.OtlpAnswers;
using static FlagExport.Collector.Tests.Support.OtlpRequests;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// OTLP/gRPC against the real executable: <c>LogsService/Export</c> and <c>TraceService/Export</c> on the
/// <c>otlpGrpcUrls</c> address, answered as OTel exporters expect (an empty response, <c>partial_success</c>,
/// UNAUTHENTICATED, INVALID_ARGUMENT, UNAVAILABLE with RetryInfo), and the flag evaluations exported once.
/// </summary>
public sealed class OtlpGrpcProcessTests : IDisposable
{
    private const long EvaluatedAt = 1_733_230_547_728_000_000; // Unix nanoseconds: creationDate 1733230547

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static OtlpLogRecord Evaluation(string key, string user, string variant = "on") => new("feature_flag.evaluation", EvaluatedAt,
        Attribute("feature_flag.key", key), Attribute("feature_flag.context.id", user), Attribute("feature_flag.result.variant", variant),
        Attribute("feature_flag.result.value", true));

    [Fact]
    public async Task Logs_FlagEvaluations_GetAnEmptyResponse_AndAreExportedWithTheirFields_OtherRecordsIgnored()
    {
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory);

        byte[] response = await collector.ExportLogsAsync(Logs("checkout",
            new OtlpLogRecord("feature_flag.evaluation", EvaluatedAt,
                Attribute("feature_flag.key", "new-checkout"), Attribute("feature_flag.context.id", "user-1"),
                Attribute("feature_flag.result.variant", "on"), Attribute("feature_flag.result.value", true), Attribute("feature_flag.version", "v1"),
                Attribute("feature_flag.result.reason", "TARGETING_MATCH"), Attribute("feature_flag.provider.name", "flagd")),
            new OtlpLogRecord(null, EvaluatedAt, Attribute("http.request.method", "GET")),
            new OtlpLogRecord(null, EvaluatedAt, Attribute("event.name", "feature_flag.evaluation"),
                Attribute("feature_flag.key", "dark-mode"), Attribute("feature_flag.result.value", 3L), Attribute("feature_flag.result.reason", "default"))));

        Assert.Empty(response); // a full success: an ExportLogsServiceResponse without partial_success
        List<string> lines = await collector.StopAndReadEventsAsync();
        Assert.Equal(2, lines.Count);
        Assert.Equal(
            """{"kind":"feature","contextKind":"user","userKey":"user-1","creationDate":1733230547,"key":"new-checkout","variation":"on","value":true,"default":false,"version":"v1","source":"SERVER","metadata":{"feature_flag.provider.name":"flagd","feature_flag.result.reason":"TARGETING_MATCH","service.name":"checkout"}}""",
            lines[0]);
        using JsonDocument second = JsonDocument.Parse(lines[1]);
        JsonElement legacy = second.RootElement;
        Assert.Equal("dark-mode", legacy.GetProperty("key").GetString());
        Assert.Equal("anonymousUser", legacy.GetProperty("contextKind").GetString());
        Assert.Equal("", legacy.GetProperty("userKey").GetString());
        Assert.Equal("SdkDefault", legacy.GetProperty("variation").GetString());
        Assert.Equal(3, legacy.GetProperty("value").GetInt64());
        Assert.True(legacy.GetProperty("default").GetBoolean());
        Assert.Equal(1733230547, legacy.GetProperty("creationDate").GetInt64());
        Assert.Equal("checkout", legacy.GetProperty("metadata").GetProperty("service.name").GetString());
    }

    [Fact]
    public async Task Traces_SpanEvents_OfBothNames_AreExported()
    {
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory);

        byte[] response = await collector.ExportTracesAsync(Traces("checkout",
        [
            new OtlpSpanEvent("feature_flag.evaluation", EvaluatedAt, Attribute("feature_flag.key", "new-checkout"),
                Attribute("feature_flag.context.id", "user-1"), Attribute("feature_flag.result.variant", "on"), Attribute("feature_flag.result.value", true)),
            new OtlpSpanEvent("exception", EvaluatedAt, Attribute("exception.message", "boom")),
            new OtlpSpanEvent("feature_flag", EvaluatedAt, Attribute("feature_flag.key", "dark-mode"),
                Attribute("feature_flag.provider_name", "flagd"), Attribute("feature_flag.variant", "off")),
        ]));

        Assert.Empty(response);
        List<string> lines = await collector.StopAndReadEventsAsync();
        Assert.Equal(2, lines.Count);
        Assert.Equal(
            """{"kind":"feature","contextKind":"user","userKey":"user-1","creationDate":1733230547,"key":"new-checkout","variation":"on","value":true,"default":false,"version":"","source":"SERVER","metadata":{"service.name":"checkout"}}""",
            lines[0]);
        using JsonDocument second = JsonDocument.Parse(lines[1]);
        Assert.Equal("dark-mode", second.RootElement.GetProperty("key").GetString());
        Assert.Equal("off", second.RootElement.GetProperty("variation").GetString());
        Assert.Equal("flagd", second.RootElement.GetProperty("metadata").GetProperty("feature_flag.provider_name").GetString());
    }

    [Fact]
    public async Task EvaluationWithoutKey_IsReportedInPartialSuccess_TheOthersAreExported()
    {
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory);

        byte[] response = await collector.ExportLogsAsync(Logs("checkout",
            Evaluation("new-checkout", "user-1"),
            new OtlpLogRecord("feature_flag.evaluation", EvaluatedAt, Attribute("feature_flag.result.variant", "on"))));

        (long rejected, string message) = Assert.NotNull(PartialSuccess(response));
        Assert.Equal(1, rejected);
        Assert.Contains("without feature_flag.key", message, StringComparison.Ordinal);
        string line = Assert.Single(await collector.StopAndReadEventsAsync());
        Assert.Contains("\"key\":\"new-checkout\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeys_AreRequired_AsMetadata_AuthorizationBearerOrXApiKey()
    {
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory, """
            apiKeys:
              - secret-key
            """);
        byte[] request = Logs("checkout", Evaluation("new-checkout", "user-1"));

        RpcException missing = await Assert.ThrowsAsync<RpcException>(() => collector.ExportLogsAsync(request));
        RpcException wrong = await Assert.ThrowsAsync<RpcException>(() => collector.ExportLogsAsync(request, new Metadata { { "authorization", "Bearer other" } }));
        byte[] bearer = await collector.ExportLogsAsync(request, new Metadata { { "authorization", "Bearer secret-key" } });
        byte[] apiKey = await collector.ExportTracesAsync(Traces("checkout", [[]]), new Metadata { { "x-api-key", "secret-key" } });

        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Contains("API key", missing.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(bearer);
        Assert.Empty(apiKey);
        Assert.Single(await collector.StopAndReadEventsAsync());
    }

    [Fact]
    public async Task MalformedMessage_IsInvalidArgument_AndNothingIsKept()
    {
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory);

        // A valid record, then resource_logs (field 1) announcing 50 bytes of which one follows.
        byte[] valid = Logs("checkout", Evaluation("new-checkout", "user-1"));
        RpcException malformed = await Assert.ThrowsAsync<RpcException>(() => collector.ExportLogsAsync([.. valid, 0x0A, 50, 0x01]));

        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        Assert.NotEmpty(malformed.Status.Detail);
        Assert.Empty(await collector.StopAndReadEventsAsync());

        // One line per refusal, the receiver's: gRPC's own line for each error status it sends is below the default level.
        Assert.Single(collector.Process.Output.Split('\n'), line => line.Contains("Refused an OTLP Logs request (Malformed)", StringComparison.Ordinal));
        Assert.DoesNotContain("Error status code", collector.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestExpandingBeyondMaxRequestExpandedBytes_IsInvalidArgument_NotRetryable()
    {
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory, "maxRequestExpandedBytes: 200");

        RpcException tooLarge = await Assert.ThrowsAsync<RpcException>(() => collector.ExportLogsAsync(
            Logs("checkout", Evaluation("new-checkout", "user-1"), Evaluation("new-checkout", "user-2"), Evaluation("new-checkout", "user-3"))));

        Assert.Equal(StatusCode.InvalidArgument, tooLarge.StatusCode);
        Assert.Contains("maxRequestExpandedBytes", tooLarge.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(await collector.StopAndReadEventsAsync());
    }

    [Fact]
    public async Task FullBuffer_IsUnavailable_WithRetryInfo_BeforeTheMessageIsRead_AndTheKeptEventsAreExportedOnce()
    {
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory, "bufferDirectory: none", exporterYaml: """
            maxEventInMemory: 5
                maxBufferedEvents: 5
            """);
        string features = _directory.Combine("features");
        // The folder becomes a file: every export fails, so the 5 events stay buffered, and fill it.
        Directory.Delete(features, recursive: true);
        File.WriteAllText(features, "not a folder");
        Assert.Empty(await collector.ExportLogsAsync(Logs("checkout", [.. Enumerable.Range(0, 5).Select(i => Evaluation("new-checkout", $"user-{i}"))])));

        RpcException full = await Assert.ThrowsAsync<RpcException>(() => collector.ExportLogsAsync(Logs("checkout", Evaluation("new-checkout", "late"))));
        RpcException fullMalformed = await Assert.ThrowsAsync<RpcException>(() => collector.ExportLogsAsync([0x0A, 50, 0x01]));

        Assert.Equal(StatusCode.Unavailable, full.StatusCode);
        Assert.Contains("no room", full.Status.Detail, StringComparison.Ordinal);
        (int code, string message, long? retryDelay) = Status(Assert.IsType<byte[]>(full.Trailers.GetValueBytes(OtlpGrpcStatus.DetailsTrailer)));
        Assert.Equal((int)StatusCode.Unavailable, code);
        Assert.Equal(full.Status.Detail, message);
        Assert.Equal(2, retryDelay);

        // Refused before its message is read: a malformed one gets UNAVAILABLE too, not INVALID_ARGUMENT.
        Assert.Equal(StatusCode.Unavailable, fullMalformed.StatusCode);

        File.Delete(features);
        List<string> lines = await collector.StopAndReadEventsAsync();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"user-{i}"), lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("userKey").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Gzip_IsAccepted_AndMaxRequestBodySize_BoundsTheDecompressedMessage()
    {
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory, "maxRequestBodySize: 4096");
        byte[] expands = Logs("checkout", new OtlpLogRecord("feature_flag.evaluation", EvaluatedAt,
            Attribute("feature_flag.key", "new-checkout"), Attribute("padding", new string('a', 20_000))));
        Assert.True(Compressed(expands) < 4096, "The gzip message itself is within the limit.");

        byte[] accepted = await collector.ExportLogsAsync(Logs("checkout", Evaluation("new-checkout", "user-1")), OtlpGrpcCollector.Gzip());
        RpcException decompressedTooLarge = await Assert.ThrowsAsync<RpcException>(() => collector.ExportLogsAsync(expands, OtlpGrpcCollector.Gzip()));
        RpcException tooLarge = await Assert.ThrowsAsync<RpcException>(() => collector.ExportLogsAsync(expands));

        Assert.Empty(accepted);
        Assert.Equal(StatusCode.ResourceExhausted, decompressedTooLarge.StatusCode);
        Assert.Equal("Received message exceeds the maximum configured message size.", decompressedTooLarge.Status.Detail);
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);
        string line = Assert.Single(await collector.StopAndReadEventsAsync());
        Assert.Contains("\"userKey\":\"user-1\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GzipBomb_IsRefusedWhileDecompressing_WithoutTheCollectorsMemoryGrowing()
    {
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory, "maxRequestBodySize: 1048576");
        const int Expanded = 256 << 20;
        byte[] compressed = GzipOfZeros(Expanded);
        Assert.True(compressed.Length < 1048576, "The message as sent is within maxRequestBodySize.");
        long before = collector.Process.PeakResidentBytes();

        // A gRPC frame by hand (flag 1: compressed), since a client would need the 256 MiB message to compress it.
        byte[] frame = [1, .. BitConverter.GetBytes(IPAddress.HostToNetworkOrder(compressed.Length)), .. compressed];
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{collector.GrpcAddress}/{OtlpGrpcMethods.LogsServiceName}/{OtlpGrpcMethods.ExportMethodName}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.Add("grpc-encoding", "gzip");
        request.Headers.TE.Add(new("trailers"));
        using HttpResponseMessage response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        _ = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);

        // An error before any response message comes "trailers-only": the status is in the headers.
        IEnumerable<string>? status = response.TrailingHeaders.TryGetValues("grpc-status", out IEnumerable<string>? trailer) ? trailer
            : response.Headers.TryGetValues("grpc-status", out IEnumerable<string>? header) ? header : null;
        Assert.NotNull(status);
        Assert.Equal(((int)StatusCode.ResourceExhausted).ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(status));
        long grown = collector.Process.PeakResidentBytes() - before;
        Assert.True(grown < 64 << 20, $"The peak resident memory grew by {grown} bytes for a message refused at 1 MiB.");
    }

    public static TheoryData<string> MainAddressSources => ["--urls", "ASPNETCORE_URLS", "Kestrel:Endpoints", "ASPNETCORE_HTTP_PORTS", "server.port", "listen"];

    [Theory]
    [MemberData(nameof(MainAddressSources))]
    public async Task EveryWayOfSettingTheMainAddress_StillListensThere_BesideTheGrpcAddress(string source)
    {
        int port = FreePort();
        string portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        (string Yaml, string[] Args, Dictionary<string, string> Environment, string Expected) setup = source switch
        {
            "--urls" => ("", ["--urls", $"http://127.0.0.1:{portText}"], [], $"http://127.0.0.1:{portText}"),
            "ASPNETCORE_URLS" => ("", [], new() { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{portText}" }, $"http://127.0.0.1:{portText}"),
            "Kestrel:Endpoints" => ("", [], new() { ["Kestrel__Endpoints__Main__Url"] = $"http://127.0.0.1:{portText}" }, $"http://127.0.0.1:{portText}"),
            "ASPNETCORE_HTTP_PORTS" => ("", [], new() { ["ASPNETCORE_HTTP_PORTS"] = portText }, $"http://[::]:{portText}"),
            "server.port" => ($"server:\n  port: {portText}", [], [], $"http://127.0.0.1:{portText}"),
            _ => ($"listen: {portText}", [], [], $"http://127.0.0.1:{portText}"),
        };
        using OtlpGrpcCollector collector = await OtlpGrpcCollector.StartAsync(_directory, setup.Yaml, setup.Args, setup.Environment);

        Assert.Equal(setup.Expected, collector.MainAddress);
        Assert.NotEqual(collector.MainAddress, collector.GrpcAddress);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", collector.GrpcAddress);
        Assert.DoesNotContain(":0", collector.GrpcAddress, StringComparison.Ordinal);
        Assert.DoesNotContain("Overriding address", collector.Process.Output, StringComparison.Ordinal);
        using var client = new HttpClient();
        HttpResponseMessage posted = await client.PostAsync(
            $"http://127.0.0.1:{portText}/v1/data/collector",
            new StringContent("""{"events":[{"kind":"feature","userKey":"u","creationDate":1700000000,"key":"json-flag","variation":"on","value":true}]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Empty(await collector.ExportLogsAsync(Logs("checkout", Evaluation("grpc-flag", "user-1"))));
        Assert.Equal(2, (await collector.StopAndReadEventsAsync()).Count);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static byte[] GzipOfZeros(int length)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            byte[] zeros = new byte[1 << 20];
            for (int written = 0; written < length; written += zeros.Length)
            {
                gzip.Write(zeros);
            }
        }

        return compressed.ToArray();
    }

    private static int Compressed(byte[] message)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(message);
        }

        return (int)compressed.Length;
    }
}

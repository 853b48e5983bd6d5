using System.Net;
using System.Text;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Docs;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

/// <summary>
/// The real executable: the README's main command without configuration, signals, exit codes. One class, so that its
/// tests (one of them on the fixed port 1031) run one after the other.
/// </summary>
public sealed class CollectorProcessTests : IDisposable
{
    // The README's curl body: two evaluations as an OpenFeature provider sends them.
    private static string TwoEvents => ReadmeQuickStart.Instance.CurlBody;

    private readonly TempDirectory _directory = new();
    private readonly HttpClient _client = new();

    public void Dispose()
    {
        _client.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task MainCommand_WithoutConfiguration_ListensOn1031_BuffersDurably_AndSigtermFlushesTheExportsFile()
    {
        // The README's Quick start as written: its command, its curl, its answer and the file its cat shows.
        ReadmeQuickStart readme = ReadmeQuickStart.Instance;
        using CollectorProcess collector = CollectorProcess.StartMainCommand(_directory.Path, readme.RunArguments);
        string address = await collector.WaitUntilListeningAsync();
        Assert.Equal("http://127.0.0.1:1031", address);
        Assert.Equal(address + "/v1/data/collector", readme.CurlUrl);

        HttpResponseMessage response = await _client.PostAsync(
            readme.CurlUrl, new StringContent(readme.CurlBody, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(readme.CurlAnswer, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.False(Directory.Exists(_directory.Combine("exports")) && Directory.EnumerateFiles(_directory.Combine("exports")).Any(), "Nothing is written before the flush.");

        collector.Signal("TERM");

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Contains($"Exporting with {ExporterNames.Derive("file:" + _directory.Combine("exports"))} (default exporter): file, JSON, feature events, to {_directory.Combine("exports")}", collector.Output, StringComparison.Ordinal);

        // Durable by default: the 200 above meant the events were in ./buffer of the folder it ran in.
        Assert.Contains($"Durable buffer in {_directory.Combine("buffer")} (maxBufferBytes 10737418240): a 200 means the events are on disk", collector.Output, StringComparison.Ordinal);
        Assert.True(Directory.Exists(_directory.Combine("buffer")), "No ./buffer in the working folder.");
        string file = Assert.Single(Directory.GetFiles(_directory.Combine(Path.GetDirectoryName(readme.ExportsPattern)!), Path.GetFileName(readme.ExportsPattern)));
        Assert.Matches(@"^flag-variation-.+-\d{10}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json$", Path.GetFileName(file));
        Assert.Equal(readme.ExportedFile, await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Sigterm_FlushesEveryExporter_AndExitsZero_WithYamlAndAspNetCoreUrls()
    {
        string yaml = _directory.Combine("collector.yaml");
        await File.WriteAllTextAsync(yaml, """
            exporters:
              - kind: file
                outputDir: ./features
                format: csv
              - kind: file
                outputDir: ./tracking
                eventType: tracking
            """, TestContext.Current.CancellationToken);
        using CollectorProcess collector = CollectorProcess.Start(
            _directory.Path, ["--config", "collector.yaml"], new Dictionary<string, string> { ["ASPNETCORE_URLS"] = "http://127.0.0.1:0" });
        string address = await collector.WaitUntilListeningAsync();
        Assert.NotEqual("http://127.0.0.1:1031", address);

        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(address, """{"events":[{"kind":"feature","key":"f","value":1},{"kind":"tracking","key":"t"}]}""")).StatusCode);
        }

        collector.Signal("TERM");

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Equal(50, File.ReadAllLines(Assert.Single(Directory.GetFiles(_directory.Combine("features"), "*.csv"))).Length);
        Assert.Equal(50, File.ReadAllLines(Assert.Single(Directory.GetFiles(_directory.Combine("tracking"), "*.json"))).Length);
    }

    [Fact]
    public async Task CtrlC_FlushesAndExitsZero_WithTheUrlsArgument()
    {
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--urls", "http://127.0.0.1:0"]);
        string address = await collector.WaitUntilListeningAsync();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(address, TwoEvents)).StatusCode);

        collector.Signal("INT");

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Equal(2, File.ReadAllLines(Assert.Single(Directory.GetFiles(_directory.Combine("exports")))).Length);
    }

    [Fact]
    public async Task Sigterm_DuringARequest_LetsItFinish_ThenFlushesIt()
    {
        // ASP.NET Core's request log tells when the request has reached the server, so the signal comes after it.
        using CollectorProcess collector = CollectorProcess.Start(
            _directory.Path,
            ["--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string> { ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information" });
        string address = await collector.WaitUntilListeningAsync();
        var body = new TrickleContent("""{"events":[{"kind":"feature","key":"in-flight","value":1}]}""");
        Task<HttpResponseMessage> request = _client.PostAsync(address + "/v1/data/collector", body, TestContext.Current.CancellationToken);
        await body.FirstHalfSent;
        await collector.WaitForOutputAsync("Request starting HTTP/1.1 POST");

        collector.Signal("TERM");
        Assert.True(await RefusesNewConnectionsAsync(address), "The stopping server still accepted new connections after 10 s.");
        body.SendTheRest();

        HttpResponseMessage response = await request;

        Assert.Equal("""{"ingestedContentCount":1}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Contains("\"key\":\"in-flight\"", await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(_directory.Combine("exports"))), TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    /// <summary>Polls with fresh connections until one is refused (the server stopped listening), at most 10 s.</summary>
    private static async Task<bool> RefusesNewConnectionsAsync(string address)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            using var fresh = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(2) };
            try
            {
                using HttpResponseMessage _ = await fresh.GetAsync(address + "/health", TestContext.Current.CancellationToken);
            }
            catch (HttpRequestException)
            {
                return true;
            }
            catch (TaskCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                // Accepted but not answered within 2 s: not refused yet, try again.
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        return false;
    }

    [Fact]
    public async Task BodiesAboveKestrelsDefaultLimit_AreAccepted_UpToMaxRequestBodySize_PlainAndGzip()
    {
        // Kestrel refuses bodies above 30,000,000 bytes unless told otherwise, and the decompression middleware applies
        // its limit to the decompressed bytes before the endpoint runs: both must follow maxRequestBodySize.
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--urls", "http://127.0.0.1:0", "--maxRequestBodySize", "41943040"]);
        string address = await collector.WaitUntilListeningAsync();
        (byte[] body, int events) = LargeBody(minimumBytes: 32_000_000);

        using var plain = new ByteArrayContent(body);
        plain.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        HttpResponseMessage plainResponse = await _client.PostAsync(address + "/v1/data/collector", plain, TestContext.Current.CancellationToken);

        using var compressedBytes = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressedBytes, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body);
        }

        using var gzipped = new ByteArrayContent(compressedBytes.ToArray());
        gzipped.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        gzipped.Headers.ContentEncoding.Add("gzip");
        HttpResponseMessage gzipResponse = await _client.PostAsync(address + "/v1/data/collector", gzipped, TestContext.Current.CancellationToken);

        Assert.Equal($$"""{"ingestedContentCount":{{events}}}""", await plainResponse.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal($$"""{"ingestedContentCount":{{events}}}""", await gzipResponse.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        collector.Signal("TERM");
        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Equal(2 * events, Directory.GetFiles(_directory.Combine("exports")).Sum(file => File.ReadLines(file).Count()));
    }

    /// <summary>A collector body of at least <paramref name="minimumBytes"/> bytes, and how many events it holds.</summary>
    private static (byte[] Body, int Events) LargeBody(int minimumBytes)
    {
        // Long values keep the event count (about 130,000) within the default buffer bound of 300,000.
        string padding = new('p', 200);
        var json = new StringBuilder(minimumBytes + 256).Append("""{"events":[""");
        int events = 0;
        while (json.Length < minimumBytes)
        {
            _ = json.Append(events == 0 ? "" : ",").Append("{\"kind\":\"feature\",\"userKey\":\"user-").Append(events).Append("\",\"key\":\"large-body\",\"value\":\"").Append(padding).Append("\"}");
            events++;
        }

        return (Encoding.UTF8.GetBytes(json.Append("]}").ToString()), events);
    }

    [Fact]
    public async Task RelayProxyServerPort_InTheYaml_IsWhereItListens_EvenWithTheContainerImagesHttpPorts()
    {
        // A relay proxy configuration file keeps its port, also in .NET's container images, which set
        // ASPNETCORE_HTTP_PORTS=8080 for every application.
        int port = FreeTcpPort();
        await File.WriteAllTextAsync(
            _directory.Combine("relay.yaml"), $"server:\n  port: {port}\nretriever:\n  kind: file\n", TestContext.Current.CancellationToken);
        using CollectorProcess collector = CollectorProcess.Start(
            _directory.Path, ["--config", "relay.yaml"], new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = FreeTcpPort().ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Equal($"http://127.0.0.1:{port}", await collector.WaitUntilListeningAsync());
        Assert.Equal("""{"ingestedContentCount":2}""", await (await PostAsync($"http://127.0.0.1:{port}", TwoEvents)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        collector.Signal("TERM");
        Assert.Equal(0, await collector.WaitForExitAsync());
    }

    [Fact]
    public async Task RelayProxyUnixSocketMode_ListensOnTheSocket_AndStartsAgainAfterASigkill()
    {
        string socket = _directory.Combine("goff.sock");
        await File.WriteAllTextAsync(
            _directory.Combine("relay.yaml"), $"server:\n  mode: unixsocket\n  unixSocketPath: {socket}\n", TestContext.Current.CancellationToken);
        using (CollectorProcess crashed = CollectorProcess.Start(_directory.Path, ["--config", "relay.yaml"]))
        {
            Assert.Equal($"http://unix:{socket}", await crashed.WaitUntilListeningAsync());
            crashed.Signal("KILL");
            _ = await crashed.WaitForExitAsync();
        }

        Assert.True(File.Exists(socket), "SIGKILL leaves the socket file behind, which Kestrel would refuse to bind over.");
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "relay.yaml"]);
        Assert.Equal($"http://unix:{socket}", await collector.WaitUntilListeningAsync());

        using var overSocket = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await client.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socket), cancellationToken);
                return new System.Net.Sockets.NetworkStream(client, ownsSocket: true);
            },
        });
        HttpResponseMessage response = await overSocket.PostAsync(
            "http://localhost/v1/data/collector", new StringContent(TwoEvents, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal("""{"ingestedContentCount":2}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        collector.Signal("TERM");
        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Equal(2, File.ReadAllLines(Assert.Single(Directory.GetFiles(_directory.Combine("exports")))).Length);
    }

    private static int FreeTcpPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task InvalidConfiguration_StopsStartUp_WithTheKeyAndANonZeroExitCode()
    {
        await File.WriteAllTextAsync(_directory.Combine("bad.yaml"), "exporters:\n  - kind: file\n    format: xml\n", TestContext.Current.CancellationToken);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "bad.yaml", "--urls", "http://127.0.0.1:0"]);

        int exitCode = await collector.WaitForExitAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains(
            "Invalid configuration:" + Environment.NewLine + "  exporters[0].format: 'xml' is not a valid format; valid values are JSON, CSV, Parquet (case-insensitive).",
            collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", collector.Output, StringComparison.Ordinal);
    }

    /// <summary>A JSON body sent in two halves: the second only when the test says so.</summary>
    private sealed class TrickleContent : HttpContent
    {
        private readonly byte[] _bytes;
        private readonly TaskCompletionSource _firstHalfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _sendTheRest = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TrickleContent(string json)
        {
            _bytes = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        public Task FirstHalfSent => _firstHalfSent.Task;

        public void SendTheRest() => _sendTheRest.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            int half = _bytes.Length / 2;
            await stream.WriteAsync(_bytes.AsMemory(0, half));
            await stream.FlushAsync();
            _firstHalfSent.TrySetResult();
            await _sendTheRest.Task;
            await stream.WriteAsync(_bytes.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _bytes.Length;
            return true;
        }
    }

    private Task<HttpResponseMessage> PostAsync(string address, string json) =>
        _client.PostAsync(address + "/v1/data/collector", new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
}

using System.Net;
using System.Net.Sockets;

namespace FlagExport.S3.Tests.Faults;

/// <summary>The proxy itself, with plain HTTP requests: each fault does what it says, and clearing it lets requests through.</summary>
public sealed class FaultProxyTests
{
    [Fact]
    public async Task Answer_RepliesWithAnS3ErrorWithoutTheServer_PassReachesTheServerAgain()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        await using FaultProxy proxy = FaultProxy.Start(new Uri(server.Endpoint));
        using var http = new HttpClient();

        proxy.Answer(503);
        using (HttpResponseMessage answered = await http.GetAsync(proxy.Endpoint, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answered.StatusCode);
            Assert.True(answered.Headers.ConnectionClose);
            Assert.Contains("<Code>SlowDown</Code>", await answered.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }

        proxy.Pass();
        using HttpResponseMessage passed = await http.GetAsync(proxy.Endpoint, TestContext.Current.CancellationToken);
        Assert.NotEqual("faultproxy", passed.Headers.TryGetValues("x-amz-request-id", out IEnumerable<string>? ids) ? ids.Single() : null);
        Assert.Equal(1, proxy.FaultsInjected);
    }

    [Fact]
    public async Task RefuseConnections_ResetsEachConnection()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        await using FaultProxy proxy = FaultProxy.Start(new Uri(server.Endpoint));
        using var http = new HttpClient();

        proxy.RefuseConnections();
        Exception? refused = await Record.ExceptionAsync(() => http.GetAsync(proxy.Endpoint, TestContext.Current.CancellationToken));

        // A reset that lands while HttpClient is still setting up the connection surfaces as the socket's own error.
        Assert.True(refused is HttpRequestException or SocketException, $"expected a refused connection, got {refused?.GetType().Name ?? "an answer"}");
        Assert.True(proxy.FaultsInjected >= 1);
    }

    [Fact]
    public async Task BlackHole_NeverAnswers_ChangingTheFaultEndsTheConnection()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        await using FaultProxy proxy = FaultProxy.Start(new Uri(server.Endpoint));
        proxy.BlackHole();
        using var client = new TcpClient();
        await client.ConnectAsync(proxy.Endpoint.Host, proxy.Endpoint.Port, TestContext.Current.CancellationToken);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        byte[] buffer = new byte[1024];
        Task<int> read = stream.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask();
        // Once the proxy holds the connection as a black hole, nothing has come back (no timing: the proxy's own count).
        Assert.True(SpinWait.SpinUntil(() => proxy.FaultsInjected == 1, TimeSpan.FromSeconds(10)), "the proxy never took the connection");
        Assert.False(read.IsCompleted, "a black-holed connection answered");

        proxy.Pass(); // resets the black-holed connection: the read ends, with nothing read
        try
        {
            Assert.Equal(0, await read.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        }
        catch (IOException)
        {
            // The reset itself: just as good.
        }

        using var http = new HttpClient();
        using HttpResponseMessage passed = await http.GetAsync(proxy.Endpoint, TestContext.Current.CancellationToken);
        Assert.Equal(2, proxy.Connections);
    }

    [Fact]
    public async Task ResetMidBody_ForwardsTheFirstBytesThenResets()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        await using FaultProxy proxy = FaultProxy.Start(new Uri(server.Endpoint));
        using var http = new HttpClient();

        proxy.ResetMidBody(afterBytes: 1024);
        using var body = new ByteArrayContent(new byte[64 * 1024]);
        _ = await Assert.ThrowsAsync<HttpRequestException>(() => http.PutAsync(new Uri(proxy.Endpoint, "/no-such-bucket/key"), body, TestContext.Current.CancellationToken));
        Assert.True(proxy.FaultsInjected >= 1);
    }
}

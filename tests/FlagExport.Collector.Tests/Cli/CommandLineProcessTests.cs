using System.Net;
using System.Net.Sockets;
using System.Reflection;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Cli;

/// <summary>The real executable's command line: help and version exit without listening, unknown options are refused.</summary>
public sealed class CommandLineProcessTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Help_PrintsTheUsage_ExitsZero_AndListensOnNothing(string help)
    {
        int port = FreeTcpPort();
        using var probe = new CancellationTokenSource();
        Task<bool> accepted = AcceptsConnectionsAsync(port, probe.Token);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, [help, "--urls", $"http://127.0.0.1:{port}"]);

        Assert.Equal(0, await collector.WaitForExitAsync());
        await probe.CancelAsync();
        Assert.False(await accepted, "something listened on the port given with --urls");
        Assert.Contains("Usage:", collector.Output, StringComparison.Ordinal);
        Assert.Contains("--config", collector.Output, StringComparison.Ordinal);
        Assert.Contains("validate", collector.Output, StringComparison.Ordinal);
        Assert.Contains("replay-dead-letters", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", collector.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_directory.Combine("exports")));
    }

    [Fact]
    public async Task Version_PrintsTheInformationalVersion_AndExitsZero()
    {
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--version"]);

        Assert.Equal(0, await collector.WaitForExitAsync());
        string expected = typeof(CollectorApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(expected, collector.Output.Trim());
    }

    [Theory]
    [InlineData("--helpme")]
    [InlineData("--conifg")]
    [InlineData("stray")]
    public async Task UnknownOptionOrArgument_IsRefusedWithTheUsage_ExitCode1(string unknown)
    {
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, [unknown, "--urls", "http://127.0.0.1:0"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains($"'{unknown}'", collector.Output, StringComparison.Ordinal);
        Assert.Contains("Usage:", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigurationPairs_ReachTheHostConfiguration()
    {
        using CollectorProcess collector = CollectorProcess.Start(
            _directory.Path, ["--urls", "http://127.0.0.1:0", "--exporters:0:kind", "file", "--exporters:0:outputDir", "from-args", "--exporters:0:format=csv"]);

        _ = await collector.WaitUntilListeningAsync();
        await collector.WaitForOutputAsync("CSV");
        Assert.Contains(Path.Combine(_directory.Path, "from-args"), collector.Output, StringComparison.Ordinal);
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Tries to connect to <paramref name="port"/> until cancelled; true as soon as a connection is accepted.</summary>
    private static async Task<bool> AcceptsConnectionsAsync(int port, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(20, CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return false;
    }
}

using System.Net.Sockets;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Configuration;

/// <summary>What is at server.unixSocketPath before the collector binds there (a stale socket: CollectorProcessTests, after a SIGKILL).</summary>
public sealed class UnixSocketFileTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void NothingThere_IsFine()
    {
        Assert.Null(UnixSocketFile.Prepare(_directory.Combine("new.sock")));
    }

    [Fact]
    public void LiveSocket_IsRefused_AndKept()
    {
        string path = _directory.Combine("live.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();

        Assert.Equal($"server.unixSocketPath: '{path}' is in use: another process listens on it.", UnixSocketFile.Prepare(path));
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void FileWithContent_IsRefused_AndKept()
    {
        string path = _directory.Combine("notes.txt");
        File.WriteAllText(path, "not a socket");

        Assert.Equal($"server.unixSocketPath: '{path}' is a file, not a socket; remove it or choose another path.", UnixSocketFile.Prepare(path));
        Assert.Equal("not a socket", File.ReadAllText(path));
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Storage;
using Azure.Storage.Blobs;

namespace FlagExport.Testing;

/// <summary>
/// Azurite's Blob service (npm <c>azurite</c>, pinned), installed into the npm cache folder and started once for the
/// test assembly on 127.0.0.1 on a free port, in memory; stopped when the assembly's tests end. A test that needs it
/// calls <see cref="RequireAsync"/>: when it cannot be installed or started the test fails under <c>CI=true</c> and is
/// skipped elsewhere, with the reason.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account and key (public, documented by Azurite).</summary>
    public const string Account = "devstoreaccount1";

    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly NpmPackages Packages = new("Azurite (npm azurite 3.37.0)", "flagexport-azurite", ("azurite", "3.37.0"));
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Lazy<Task<Uri>> _started;
    private readonly StringBuilder _output = new();
    private Process? _process;

    public AzuriteServer() => _started = new(StartAsync);

    /// <summary>The Blob service endpoint, <c>http://127.0.0.1:port/devstoreaccount1</c>, once started.</summary>
    public Uri ServiceUrl { get; private set; } = new("http://127.0.0.1:1/");

    /// <summary>Starts Azurite if needed; a skip (a failure under CI) when it cannot be installed or started.</summary>
    public async Task<AzuriteServer> RequireAsync()
    {
        _ = await Packages.NodeModulesAsync();
        try
        {
            ServiceUrl = await _started.Value;
            return this;
        }
        catch (Exception exception) when (exception is NpmUnavailableException or TimeoutException)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"CI=true but Azurite could not be started: {exception.Message}");
            }

            Assert.Skip($"Azurite could not be started: {exception.Message}");
            throw;
        }
    }

    /// <summary>A client of the test's own on the development account, with <paramref name="options"/> when given.</summary>
    public BlobServiceClient CreateClient(BlobClientOptions? options = null) =>
        new(ServiceUrl, new StorageSharedKeyCredential(Account, AccountKey), options);

    /// <summary>A new, empty container with a unique name.</summary>
    public async Task<BlobContainerClient> NewContainerAsync(BlobClientOptions? options = null)
    {
        BlobContainerClient container = CreateClient(options).GetBlobContainerClient($"t{Guid.NewGuid():N}");
        _ = await container.CreateAsync(cancellationToken: TestContext.Current.CancellationToken);
        return container;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }

    private async Task<Uri> StartAsync()
    {
        string nodeModules = await Packages.NodeModulesAsync();
        string main = Path.Combine(nodeModules, "azurite", "dist", "src", "blob", "main.js");
        if (!File.Exists(main))
        {
            throw new NpmUnavailableException($"{main} is missing from the installed package");
        }

        int port = FreePort();
        var start = NodeProcess.Redirected(new ProcessStartInfo("node") { WorkingDirectory = Path.GetDirectoryName(nodeModules)! });
        foreach (string argument in new[]
        {
            main, "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        try
        {
            _ = process.Start();
        }
        catch (System.ComponentModel.Win32Exception missing)
        {
            process.Dispose();
            throw new NpmUnavailableException($"node cannot be started: {missing.Message}");
        }

        _process = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await WaitUntilListeningAsync(process, port);
        return new Uri($"http://127.0.0.1:{port}/{Account}");
    }

    private async Task WaitUntilListeningAsync(Process process, int port)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new NpmUnavailableException($"Azurite exited with {process.ExitCode}: {Output()}");
            }

            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < StartTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100)); // polling a condition, bounded by StartTimeout
            }
            catch (SocketException)
            {
                throw new TimeoutException($"Azurite did not listen on 127.0.0.1:{port} within {StartTimeout}: {Output()}");
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _ = _output.AppendLine(line);
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString().Trim();
        }
    }
}

using System.Text.RegularExpressions;
using FlagExport.Collector.Otlp;
using FlagExport.Collector.Tests.Support;
using Grpc.Core;
using Grpc.Net.Client;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// A collector process with <c>otlpGrpcUrls: http://127.0.0.1:0</c>, called as an OTel exporter calls it: Grpc.Net.Client
/// over cleartext HTTP/2, with the collector's own raw-bytes method descriptors. Its file exporter writes JSON lines to
/// <c>./features</c> of its working folder.
/// </summary>
public sealed partial class OtlpGrpcCollector : IDisposable
{
    private readonly GrpcChannel _channel;

    private readonly string _workingDirectory;

    private OtlpGrpcCollector(string workingDirectory, CollectorProcess process, string mainAddress, string grpcAddress)
    {
        _workingDirectory = workingDirectory;
        Process = process;
        MainAddress = mainAddress;
        GrpcAddress = grpcAddress;
        _channel = GrpcChannel.ForAddress(grpcAddress);
    }

    public CollectorProcess Process { get; }

    /// <summary>The main address, from the collector's "listening on" line.</summary>
    public string MainAddress { get; }

    /// <summary>The gRPC address with its real port, from the "OTLP/gRPC listening on" line.</summary>
    public string GrpcAddress { get; }

    /// <summary>
    /// Writes <c>collector.yaml</c> (<paramref name="yaml"/> above a file exporter to <c>./features</c> that writes only
    /// on stop) in <paramref name="directory"/> and starts the collector there with <paramref name="args"/>.
    /// </summary>
    public static async Task<OtlpGrpcCollector> StartAsync(
        TempDirectory directory, string yaml = "", string[]? args = null, IDictionary<string, string>? environment = null, string exporterYaml = "")
    {
        await File.WriteAllTextAsync(directory.Combine("collector.yaml"), $"""
            otlpGrpcUrls: http://127.0.0.1:0
            {yaml}
            exporters:
              - kind: file
                outputDir: ./features
                flushInterval: 3600000
                {exporterYaml}
            """, TestContext.Current.CancellationToken);
        var process = CollectorProcess.Start(directory.Path, ["--config", "collector.yaml", .. args ?? ["--urls", "http://127.0.0.1:0"]], environment);
        try
        {
            string main = await process.WaitUntilListeningAsync();

            // Logged right after the main line, in the same start-up callback.
            await process.WaitForOutputAsync("OTLP/gRPC listening on ");
            string grpc = GrpcListeningLine().Match(process.Output).Groups[1].Value;
            return new OtlpGrpcCollector(directory.Path, process, main, grpc);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>Calls <c>LogsService/Export</c>; throws <see cref="RpcException"/> on an error status.</summary>
    public Task<byte[]> ExportLogsAsync(byte[] request, Metadata? headers = null) => CallAsync(OtlpGrpcMethods.ExportLogs, request, headers);

    /// <summary>Calls <c>TraceService/Export</c>; throws <see cref="RpcException"/> on an error status.</summary>
    public Task<byte[]> ExportTracesAsync(byte[] request, Metadata? headers = null) => CallAsync(OtlpGrpcMethods.ExportTraces, request, headers);

    /// <summary>Metadata that makes Grpc.Net.Client send the message gzip-compressed (grpc-encoding: gzip).</summary>
    public static Metadata Gzip() => new() { { "grpc-internal-encoding-request", "gzip" } };

    /// <summary>Stops the collector with SIGTERM (which flushes the exporter) and returns the exported JSON lines.</summary>
    public async Task<List<string>> StopAndReadEventsAsync(string folder = "features")
    {
        Process.Signal("TERM");
        Assert.Equal(0, await Process.WaitForExitAsync());
        string directory = Path.Combine(_workingDirectory, folder);
        return !Directory.Exists(directory) ? [] :
        [
            .. Directory.GetFiles(directory).Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines).Where(line => line.Length > 0),
        ];
    }

    public void Dispose()
    {
        _channel.Dispose();
        Process.Dispose();
    }

    private async Task<byte[]> CallAsync(Method<byte[], byte[]> method, byte[] request, Metadata? headers)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        return await _channel.CreateCallInvoker().AsyncUnaryCall(method, host: null, new CallOptions(headers, cancellationToken: timeout.Token), request);
    }

    [GeneratedRegex(@"OTLP/gRPC listening on (\S+)")]
    private static partial Regex GrpcListeningLine();
}

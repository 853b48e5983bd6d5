using System.Globalization;
using System.Net;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector process with the durable buffer and a file exporter cutting batches by <c>maxBatchBytes</c>: a batch
/// partly written when the output disk fills up, a clean stop, a restart with another <c>maxBatchBytes</c> and format:
/// every acknowledged event is in exactly one file.
/// </summary>
public sealed class CollectorOptionChangeTests : IDisposable
{
    private const int Events = 3_000;
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task CleanStopOnAFullDisk_RestartWithOtherMaxBatchBytesAndFormat_WritesEveryAcknowledgedEventOnce()
    {
        string output = _directory.Combine("exports");
        using Tmpfs disk = Tmpfs.MountOrSkip(output, 256 * 1024);
        string[] acknowledged = DurableCollector.Keys("user", 0, Events);
        await WriteConfigAsync(maxBatchBytes: 16 * 1024, format: "json");
        using (CollectorProcess first = DurableCollector.Start(_directory))
        {
            string address = await first.WaitUntilListeningAsync();
            using var client = new HttpClient();
            foreach (string[] request in acknowledged.Chunk(500))
            {
                using HttpResponseMessage response = await DurableCollector.PostAsync(client, address, request, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            await first.WaitForOutputAsync("disk was full"); // the attempt that filled the disk, some parts written
            first.Signal("TERM");
            Assert.Equal(0, await first.WaitForExitAsync()); // the rest is kept in the buffer
        }

        int writtenBefore = Directory.GetFiles(output).Length;
        Assert.True(writtenBefore >= 5, $"{writtenBefore} parts written before the disk was full");

        disk.Resize(64 * 1024 * 1024);
        await WriteConfigAsync(maxBatchBytes: 32 * 1024, format: "csv");
        using (CollectorProcess second = DurableCollector.Start(_directory))
        {
            _ = await second.WaitUntilListeningAsync();
            await DurableCollector.WaitUntilAsync(() => Task.FromResult(UserKeys(output).Count >= Events), $"{Events} events in {output}");
            second.Signal("TERM");
            Assert.Equal(0, await second.WaitForExitAsync());
        }

        List<string> written = UserKeys(output);
        Assert.Equal(Events, written.Count);
        Assert.Equal(acknowledged.Order(StringComparer.Ordinal), written.Order(StringComparer.Ordinal));
    }

    private Task WriteConfigAsync(int maxBatchBytes, string format) => File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
        bufferDirectory: {DurableCollector.BufferDirectory(_directory)}
        exporters:
          - kind: file
            outputDir: ./exports
            filename: "batch-{"{{"} .Timestamp{"}}"}.{"{{"} .Format{"}}"}"
            format: {format}
            maxBatchBytes: {maxBatchBytes.ToString(CultureInfo.InvariantCulture)}
            maxEventInMemory: {Events.ToString(CultureInfo.InvariantCulture)}
            flushInterval: 200
        """, TestContext.Current.CancellationToken);

    /// <summary>The user keys of the visible JSON lines and CSV files (hidden temporary files are not read).</summary>
    private static List<string> UserKeys(string folder) =>
    [
        .. Directory.GetFiles(folder).Where(f => !Path.GetFileName(f).StartsWith('.')).SelectMany(file => File.ReadAllLines(file)
            .Where(line => line.Length > 0)
            .Select(line =>
            {
                if (file.EndsWith(".csv", StringComparison.Ordinal))
                {
                    return line.Split(';').Single(field => field.StartsWith("user-", StringComparison.Ordinal));
                }

                using var json = JsonDocument.Parse(line);
                return json.RootElement.GetProperty("userKey").GetString()!;
            })),
    ];
}

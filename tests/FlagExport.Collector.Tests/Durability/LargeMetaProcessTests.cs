using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector process, in memory and with the durable buffer, and a request whose <c>meta</c> is large:
/// go-feature-flag's format writes the metadata into every event's line, so 0.1 MB of <c>meta</c> and 4,000 events are
/// 400 MB of output. The log keeps the metadata once, batches are cut by their encoded size, and memory stays far below
/// the output's size.
/// </summary>
public sealed class LargeMetaProcessTests : IDisposable
{
    private const int MetaBytes = 100_000;
    private const int EventCount = 4_000;
    private const long ExpandedBytes = (long)MetaBytes * EventCount;

    // The pipeline's default MaxBatchEncodedBytes: no batch's encoding may exceed it.
    private const long DefaultBatchBound = 256L * 1024 * 1024;

    // Measured about 185 MiB (the runtime, one batch of about 45 MB and its encoding); the output is 400 MB.
    private const long PeakMemoryBound = 300L * 1024 * 1024;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task LargeSharedMeta_LogGrowsByTheRequest_FilesCutByBytes_EveryEventOnce_MemoryBounded_SigtermExitsZero(bool durable)
    {
        // The request expands to 400 MB of output, past the default maxRequestExpandedBytes (128 MiB): allowed here, to
        // show that the pipeline itself keeps such a request bounded whatever the operator lets in.
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), (durable ? "bufferDirectory: ./buffer\n" : "") + """
            maxRequestExpandedBytes: 1073741824
            deadLetterDirectory: ./dead-letter
            exporters:
              - kind: file
                outputDir: ./exports
                format: json
                flushInterval: 200
            """, TestContext.Current.CancellationToken);
        using CollectorProcess collector = DurableCollector.Start(_directory);
        string address = await collector.WaitUntilListeningAsync();
        byte[] body = Request(out string[] keys);

        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        using HttpResponseMessage response = await client.PostAsync(
            address + "/v1/data/collector", new ByteArrayContent(body) { Headers = { { "Content-Type", "application/json" } } }, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}. Output:{Environment.NewLine}{collector.Output}");

        if (durable)
        {
            // Answered 200, so on disk: the request's size (0.6 MB), not the metadata once per event (400 MB).
            long logBytes = DurableCollector.Segments(_directory).Sum(f => new FileInfo(f).Length);
            Assert.InRange(logBytes, MetaBytes, 2L * body.Length);
        }

        Dictionary<string, string[]> files = await WaitForLinesAsync(EventCount, collector);
        var seen = files.Values.SelectMany(k => k).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal)); // each event once
        Assert.True(files.Count > 1, "cut by bytes: 400 MB is not one batch");
        Assert.All(files.Keys, f => Assert.InRange(new FileInfo(f).Length, 1, DefaultBatchBound));

        long peak = collector.PeakResidentBytes();
        Assert.True(peak < PeakMemoryBound, $"peak resident memory {peak / (1024 * 1024)} MiB; the output is {ExpandedBytes / (1024 * 1024)} MiB");

        collector.Signal("TERM");
        Assert.Equal(0, await collector.WaitForExitAsync());
        DurableCollector.AssertNoDeadLetters(_directory);
    }

    /// <summary>One request: <c>meta</c> of <see cref="MetaBytes"/> characters, then <see cref="EventCount"/> events with their own user keys.</summary>
    private static byte[] Request(out string[] keys)
    {
        keys = DurableCollector.Keys("meta", 0, EventCount);
        var body = new StringBuilder("{\"meta\":{\"blob\":\"").Append('m', MetaBytes).Append("\",\"env\":\"prod\"},\"events\":[");
        for (int i = 0; i < keys.Length; i++)
        {
            _ = body.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                $$"""{"kind":"feature","contextKind":"user","userKey":"{{keys[i]}}","creationDate":1700000000,"key":"flag","variation":"v","value":1}""");
        }

        return Encoding.UTF8.GetBytes(body.Append("]}").ToString());
    }

    /// <summary>Polls the output folder until its files hold <paramref name="count"/> lines; files appear whole (renamed in).</summary>
    private async Task<Dictionary<string, string[]>> WaitForLinesAsync(int count, CollectorProcess collector)
    {
        var files = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string folder = _directory.Combine("exports");
        await DurableCollector.WaitUntilAsync(() =>
        {
            if (Directory.Exists(folder))
            {
                foreach (string file in Directory.GetFiles(folder).Where(f => !files.ContainsKey(f) && !Path.GetFileName(f).StartsWith('.')))
                {
                    files[file] = [.. File.ReadLines(file).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!)];
                }
            }

            return Task.FromResult(files.Values.Sum(k => k.Length) >= count);
        }, $"{count} events in {folder}. Output:{Environment.NewLine}{collector.Output}", seconds: 120);
        return files;
    }
}

using System.Net;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;
using FlagExport.Durability;

namespace FlagExport.Collector.Tests.Durability;

/// <summary>
/// The collector process with its durable buffer on a disk that fills up (a small tmpfs), or whose folder is deleted
/// under it: a request is refused whole (503) and leaves nothing in the buffer, readiness names the buffer's error, and
/// appends resume by themselves once there is room again; every event answered 200 is exported once, no refused one.
/// </summary>
public sealed class CollectorFullDiskTests : IDisposable
{
    private const int RequestSize = 200;

    private readonly TempDirectory _directory = new();
    private readonly HttpClient _client = new();

    public void Dispose()
    {
        _client.Dispose();
        _directory.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FullDisk_Refuses503_KeepsNothingRefused_ResumesWhenSpaceReturns_ReadinessFollows_AndSigtermExitsZero()
    {
        using Tmpfs disk = Tmpfs.MountOrSkip(DurableCollector.BufferDirectory(_directory), 3 * 1024 * 1024);
        string filler = disk.Fill("filler", 1024 * 1024);
        await WriteConfigAsync();
        var acknowledged = new List<string>();
        var refused = new List<string>();
        int next = 0;
        using (CollectorProcess collector = DurableCollector.Start(_directory))
        {
            string address = await collector.WaitUntilListeningAsync();

            // 2 MiB free hold some thousands of these events: the bound only stops a disk that never fills.
            (HttpResponseMessage? full, next) = await DurableCollector.PostUntilRefusedAsync(
                _client, address, "disk", next, RequestSize, limit: 200_000, acknowledged, refused, Token);

            Assert.NotNull(full);
            using (full)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
                Assert.Contains("No space left on device", await full.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
            }

            // Readiness names the buffer and the error while the disk is full.
            (HttpStatusCode status, string body) = await ReadinessAsync(address);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("No space left on device", AppendError(body), StringComparison.Ordinal);

            // Room again: without a restart, readiness comes back and the refused events are accepted when sent again.
            File.Delete(filler);
            await DurableCollector.WaitUntilAsync(
                async () => (await ReadinessAsync(address)).Status == HttpStatusCode.OK, "readiness is 200 again once the disk has room", seconds: 20);
            string[] resent = [.. refused.Take(RequestSize)];
            using (HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, resent, Token))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                acknowledged.AddRange(resent);
                refused.RemoveRange(0, RequestSize);
            }

            collector.Signal("TERM");
            Assert.Equal(0, await collector.WaitForExitAsync());
            Assert.DoesNotContain("Cannot start", collector.Output, StringComparison.Ordinal);
        }

        // The next start exports what the buffer kept: each acknowledged event once, no refused one.
        using (CollectorProcess collector = DurableCollector.Start(_directory))
        {
            _ = await collector.WaitUntilListeningAsync();
            await DurableCollector.WaitUntilAsync(
                () => Task.FromResult(ExportedKeys().Count >= acknowledged.Count),
                $"the {acknowledged.Count} acknowledged events are in the output folder");
            collector.Signal("TERM");
            Assert.Equal(0, await collector.WaitForExitAsync());
        }

        List<string> exported = ExportedKeys();
        string[] twice = [.. exported.GroupBy(k => k, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key)];
        Assert.True(twice.Length == 0, $"{twice.Length} events exported twice, for example {string.Join(", ", twice.Take(5))}");
        var exportedSet = exported.ToHashSet(StringComparer.Ordinal);
        Assert.All(acknowledged, k => Assert.Contains(k, exportedSet));
        string[] leaked = [.. refused.Where(exportedSet.Contains)];
        Assert.True(leaked.Length == 0, $"{leaked.Length} refused events were exported, for example {string.Join(", ", leaked.Take(5))}");
    }

    [Fact]
    public async Task DeletedBufferFolder_RefusesWith503_AndReadinessNamesIt_InsteadOfAcknowledgingIntoUnlinkedFiles()
    {
        await WriteConfigAsync();
        using CollectorProcess collector = DurableCollector.Start(_directory);
        string address = await collector.WaitUntilListeningAsync();
        using (HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, DurableCollector.Keys("before", 0, 10), Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        DurableCollector.DeleteWhileInUse(DurableCollector.BufferDirectory(_directory));

        using (HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, DurableCollector.Keys("after", 0, 10), Token))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("no longer exists", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        }

        (HttpStatusCode status, string body) = await ReadinessAsync(address);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("no longer exists", AppendError(body), StringComparison.Ordinal);
        collector.Signal("TERM");
        _ = await collector.WaitForExitAsync();
        Assert.DoesNotContain("Cannot start", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletedOutputFolder_IsCreatedAgain_AndEveryAcknowledgedEventIsWrittenOnce()
    {
        await WriteConfigAsync();
        using CollectorProcess collector = DurableCollector.Start(_directory);
        string address = await collector.WaitUntilListeningAsync();
        string[] before = DurableCollector.Keys("before", 0, 10);
        string[] after = DurableCollector.Keys("after", 0, 10);
        using (HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, before, Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await DurableCollector.WaitUntilAsync(() => Task.FromResult(ExportedKeys().Count == before.Length), "the first events are written");
        DurableCollector.DeleteWhileInUse(_directory.Combine("exports"));
        using (HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, after, Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await DurableCollector.WaitUntilAsync(() => Task.FromResult(ExportedKeys().Count >= after.Length), "the events after the deletion are written into a new folder");
        collector.Signal("TERM");
        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Equal(after.Order(StringComparer.Ordinal), ExportedKeys().Order(StringComparer.Ordinal));
        DurableCollector.AssertNoDeadLetters(_directory);
    }

    [Fact]
    public async Task RequestLargerThanTheWholeBuffer_Answers413NamingMaxBufferBytes_NotAnEndless503()
    {
        await WriteConfigAsync(maxBufferBytes: 1024 * 1024);
        using CollectorProcess collector = DurableCollector.Start(_directory);
        string address = await collector.WaitUntilListeningAsync();

        // Some tens of bytes per event in the buffer: 40,000 events take more than 1 MiB.
        using HttpResponseMessage response = await DurableCollector.PostAsync(_client, address, DurableCollector.Keys("huge", 0, 40_000), Token);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using JsonDocument error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        string message = error.RootElement.GetProperty("message").GetString() ?? "";
        Assert.Contains("maxBufferBytes = 1048576", message, StringComparison.Ordinal);

        // The real limit: the segment being written (an eighth of the buffer here) is never released.
        long limit = (1024 * 1024) - DurableEventStore.SegmentBytesFor(1024 * 1024) - (2 * SegmentFormat.HeaderSize);
        Assert.Contains($"at most {limit} bytes", message, StringComparison.Ordinal);
    }

    /// <summary>The readiness answer's <c>durableBuffer.appendError</c>.</summary>
    private static string AppendError(string readiness)
    {
        using JsonDocument document = JsonDocument.Parse(readiness);
        return document.RootElement.GetProperty("durableBuffer").GetProperty("appendError").GetString() ?? "";
    }

    private async Task<(HttpStatusCode Status, string Body)> ReadinessAsync(string address)
    {
        using HttpResponseMessage response = await _client.GetAsync(address + "/health/ready", Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Token));
    }

    private Task WriteConfigAsync(long? maxBufferBytes = null) => File.WriteAllTextAsync(
        _directory.Combine("collector.yaml"),
        $"""
        bufferDirectory: {DurableCollector.BufferDirectory(_directory)}
        {(maxBufferBytes is { } max ? $"maxBufferBytes: {max}" : "")}
        exporters:
          - kind: file
            outputDir: {_directory.Combine("exports")}
            format: json
            flushInterval: 200
        """,
        Token);

    /// <summary>The user key of every event in the output folder, as often as it was written.</summary>
    private List<string> ExportedKeys()
    {
        string folder = _directory.Combine("exports");
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var keys = new List<string>();
        foreach (string file in Directory.GetFiles(folder, "*.json", SearchOption.AllDirectories))
        {
            foreach (string line in File.ReadLines(file))
            {
                using JsonDocument document = JsonDocument.Parse(line);
                keys.Add(document.RootElement.GetProperty("userKey").GetString()!);
            }
        }

        return keys;
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace FlagExport.Tests.Exporters;

public sealed class FileExporterVisibilityTests : IDisposable
{
    private const int Batches = 20;
    private const int EventsPerBatch = 20_000;

    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ExportAsync_AReaderPollingTheFolder_NeverSeesAFinalFileBeforeItIsWhole()
    {
        var exporter = new FileExporter(new FileExporterOptions { OutputDir = _folder.Path, Filename = "batch-{{ .UUID}}.json" });
        var observations = new ConcurrentQueue<Observation>();
        var seen = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource();
        Task reader = Task.Factory.StartNew(
            () => Poll(_folder.Path, observations, seen, stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            for (int b = 0; b < Batches; b++)
            {
                ExportableEvent[] batch = [.. Enumerable.Range(0, EventsPerBatch).Select(i => Event(b, i))];
                await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

                // Only go on once the reader has seen this file: it is then scanning while the next one is written.
                await Pipeline.Fakes.TestEvents.WaitUntilAsync(() => seen.Count == b + 1 || reader.IsCompleted, $"the reader saw file {b + 1}");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await reader;
        }

        Dictionary<string, Observation> final = Directory.EnumerateFiles(_folder.Path)
            .Select(path => Observe(Path.GetFileName(path), path, new FileInfo(path).Length))
            .ToDictionary(o => o.Name, StringComparer.Ordinal);
        Assert.Equal(Batches, final.Count);
        Assert.DoesNotContain(final.Keys, name => name.StartsWith('.')); // no temporary file left behind
        Assert.All(final.Values, f => Assert.InRange(f.Length, EventsPerBatch * 100L, long.MaxValue)); // megabytes each: writing one takes a while
        Assert.Equal(final.Keys.Order(StringComparer.Ordinal), seen.Keys.Order(StringComparer.Ordinal));
        string[] partial = [.. observations
            .Where(o => o.Length != final[o.Name].Length || o.ReadLength != final[o.Name].Length || !o.Hash.SequenceEqual(final[o.Name].Hash))
            .Select(o => $"'{o.Name}' listed with {o.Length} bytes, {o.ReadLength} read, of {final[o.Name].Length}")];
        Assert.True(partial.Length == 0, $"A reader saw {partial.Length} final files before they were whole, first {partial.FirstOrDefault()}.");
    }

    /// <summary>
    /// Until stopped, lists the folder over and over; each time a final (non-hidden) file is seen for the first time or
    /// with a new length, records its length and reads it whole, as a reader globbing <c>*.json</c> would.
    /// </summary>
    private static void Poll(string folder, ConcurrentQueue<Observation> observations, ConcurrentDictionary<string, bool> seen, CancellationToken stop)
    {
        var lastLength = new Dictionary<string, long>(StringComparer.Ordinal);
        while (!stop.IsCancellationRequested)
        {
            foreach (string path in Directory.EnumerateFiles(folder))
            {
                string name = Path.GetFileName(path);
                if (name.StartsWith('.'))
                {
                    continue; // the exporter's temporary files are hidden: readers skip them
                }

                long length = new FileInfo(path).Length;
                if (lastLength.TryGetValue(name, out long last) && last == length)
                {
                    continue; // seen like this already
                }

                lastLength[name] = length;
                observations.Enqueue(Observe(name, path, length));
                _ = seen.TryAdd(name, true);
            }
        }
    }

    private static Observation Observe(string name, string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 16];
        long read = 0;
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, n);
            read += n;
        }

        return new Observation(name, length, read, hash.GetHashAndReset());
    }

    private static FeatureEvent Event(int batch, int index) => new()
    {
        ContextKind = "user", UserKey = $"user-{batch}-{index}", CreationDate = 1_700_000_000 + index, Key = $"flag-{index % 50}",
        Variation = "enabled", Value = index % 2 == 0, Version = "v1", Source = "SERVER",
    };

    /// <summary>What a reader saw: the length listed, the bytes it could read and their hash.</summary>
    private sealed record Observation(string Name, long Length, long ReadLength, byte[] Hash);
}

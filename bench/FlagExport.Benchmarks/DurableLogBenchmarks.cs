using BenchmarkDotNet.Attributes;
using FASTER.core;
using FlagExport.Durability;

namespace FlagExport.Benchmarks;

/// <summary>
/// The disk buffer's write path: <see cref="SegmentLog"/> against FASTER's <see cref="FasterLog"/> (per-entry checksums,
/// its local storage device), both on the same disk. Four producers append 20,000 records of 300 bytes in batches of 50
/// and wait until each batch is durable, so both logs must group-commit to keep up.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class DurableLogBenchmarks
{
    private const int Records = 20_000;
    private const int Producers = 4;
    private const int Batch = 50;
    private const int RecordBytes = 300;

    private readonly byte[] _payload = [.. Enumerable.Range(0, RecordBytes).Select(i => (byte)i)];
    private string _directory = "";
    private SegmentLog? _segmentLog;
    private IDevice? _device;
    private FasterLog? _fasterLog;

    [IterationSetup(Target = nameof(SegmentLogAppend))]
    public void SetupSegmentLog()
    {
        _directory = NewDirectory();
        _segmentLog = SegmentLog.Open(_directory, new SegmentLogOptions());
    }

    [IterationCleanup(Target = nameof(SegmentLogAppend))]
    public void CleanupSegmentLog()
    {
        _segmentLog!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "SegmentLog")]
    public Task SegmentLogAppend() => RunProducersAsync(async () =>
    {
        SegmentLog log = _segmentLog!;
        long last = 0;
        for (int i = 0; i < Batch; i++)
        {
            if (!log.TryAppend(1, _payload, out last))
            {
                throw new InvalidOperationException("The log is full.");
            }
        }

        await log.WaitForDurableAsync(last + 1).ConfigureAwait(false);
    });

    [IterationSetup(Target = nameof(FasterLogAppend))]
    public void SetupFasterLog()
    {
        _directory = NewDirectory();
        _device = Devices.CreateLogDevice(Path.Combine(_directory, "hlog.log"));
        _fasterLog = new FasterLog(new FasterLogSettings
        {
            LogDevice = _device,
            LogCommitDir = _directory,
            LogChecksum = LogChecksumType.PerEntry,
        });
    }

    [IterationCleanup(Target = nameof(FasterLogAppend))]
    public void CleanupFasterLog()
    {
        _fasterLog!.Dispose();
        _device!.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Description = "FasterLog")]
    public Task FasterLogAppend() => RunProducersAsync(async () =>
    {
        FasterLog log = _fasterLog!;
        for (int i = 0; i < Batch; i++)
        {
            log.Enqueue(_payload.AsSpan());
        }

        // Concurrent CommitAsync calls while a commit is in flight are served by the next one: FasterLog's group commit.
        await log.CommitAsync().ConfigureAwait(false);
    });

    private static async Task RunProducersAsync(Func<Task> appendBatchAndWait)
    {
        var producers = new Task[Producers];
        for (int p = 0; p < Producers; p++)
        {
            producers[p] = Task.Run(async () =>
            {
                for (int b = 0; b < Records / Producers / Batch; b++)
                {
                    await appendBatchAndWait().ConfigureAwait(false);
                }
            });
        }

        await Task.WhenAll(producers).ConfigureAwait(false);
    }

    /// <summary>Under the working directory, not /tmp, which may be a RAM disk where fsync costs nothing.</summary>
    private static string NewDirectory()
    {
        string directory = Path.Combine(Environment.CurrentDirectory, "durable-log-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}

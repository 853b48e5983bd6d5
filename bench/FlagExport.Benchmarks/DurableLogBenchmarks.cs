using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FASTER.core;
using FlagExport.Durability;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlagExport.Benchmarks;

/// <summary>
/// The disk buffer's write path: <see cref="SegmentLog"/> against FASTER's <see cref="FasterLog"/> (per-entry checksums,
/// its local storage device), both on the same disk. Four producers append 20,000 records of 300 bytes in batches of 50
/// and wait until each batch is durable, so both logs must group-commit to keep up.
/// The read path (category Read): a pipeline's reader cutting 10,000 events (100-event requests sharing their
/// <c>meta</c>, as the collector appends them) once it has caught up, taking them from memory, against the same range
/// decoded from the segment files (what every read cost before, and what backlog and recovery still cost).
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
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
    [BenchmarkCategory("Append")]
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
    [BenchmarkCategory("Append")]
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

    private const int ReadEvents = 10_000;
    private readonly List<ExportableEvent> _readInto = new(ReadEvents);
    private string _readDirectory = "";
    private DurableEventStore? _memoryStore;
    private DurableEventStore? _logStore;
    private DurableEventReader? _fromMemory;
    private DurableEventReader? _pin; // never reads: keeps the records in memory for every iteration
    private DurableEventReader? _fromLog;
    private long _readEnd;

    [GlobalSetup(Targets = [nameof(ReadFromLog), nameof(ReadFromMemory)])]
    public void SetupRead()
    {
        _readDirectory = NewDirectory();
        _memoryStore = DurableEventStore.Open(Path.Combine(_readDirectory, "memory"), 1L << 30);
        _logStore = DurableEventStore.Open(Path.Combine(_readDirectory, "log"), 1L << 30, recentRecords: 0);
        FlagObject meta = FlagObject.Create([new("env", FlagValue.FromString("production")), new("region", FlagValue.FromString("eu-west-1"))]);
        for (int request = 0; request < ReadEvents / 100; request++)
        {
            ExportableEvent[] events = [.. Enumerable.Range(request * 100, 100).Select(i => new FeatureEvent
            {
                CreationDate = 1_700_000_000 + i, Key = "checkout-redesign", UserKey = $"user-{i}", ContextKind = "user",
                Variation = i % 2 == 0 ? "enabled" : "disabled", Value = FlagValue.FromBoolean(i % 2 == 0), Version = "v42", Metadata = meta,
            })];
            foreach (DurableEventStore store in new[] { _memoryStore, _logStore })
            {
                if (!store.TryAppend(events, out _))
                {
                    throw new InvalidOperationException("The buffer is full.");
                }
            }
        }

        _memoryStore.FlushAsync().GetAwaiter().GetResult();
        _logStore.FlushAsync().GetAwaiter().GetResult();
        _readEnd = _memoryStore.DurablePosition;
        _pin = new DurableEventReader(_memoryStore.Log, 0, EventType.Feature, "pin", NullLogger.Instance);
        _fromMemory = new DurableEventReader(_memoryStore.Log, 0, EventType.Feature, "memory", NullLogger.Instance);
        _fromLog = new DurableEventReader(_logStore.Log, 0, EventType.Feature, "log", NullLogger.Instance);
    }

    [GlobalCleanup(Targets = [nameof(ReadFromLog), nameof(ReadFromMemory)])]
    public void CleanupRead()
    {
        _fromMemory!.Dispose();
        _pin!.Dispose();
        _fromLog!.Dispose();
        _memoryStore!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _logStore!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_readDirectory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "Read: decoded from the log")]
    [BenchmarkCategory("Read")]
    public int ReadFromLog() => Read(_fromLog!);

    [Benchmark(Description = "Read: caught up, from memory")]
    [BenchmarkCategory("Read")]
    public int ReadFromMemory() => Read(_fromMemory!);

    /// <summary>The whole range, cut by the pipeline's byte bound as a batch is.</summary>
    private int Read(DurableEventReader reader)
    {
        _readInto.Clear();
        _ = reader.ReadRange(0, _readEnd, _readInto, long.MaxValue, EventSize.Bound);
        return _readInto.Count;
    }

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

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.S3.Tests;

/// <summary>
/// Dispose while an export runs: the pipeline abandons an export at its shutdown deadline, then the container disposes
/// the exporter. The upload must keep its client until it ends. No server is contacted: the upload is held in memory.
/// </summary>
public sealed class S3ExporterDisposeTests
{
    private static readonly S3ExporterOptions Options = new() { Bucket = "bucket" };

    [Fact]
    public async Task Dispose_DuringAnExport_KeepsTheClientUntilTheExportEnds_ThenDisposesItOnce()
    {
        var client = new HeldPutClient();
        var exporter = new S3Exporter(Options, client, ownsClient: true, EventType.Feature, timeProvider: null, logger: null);
        Task export = exporter.ExportAsync(ObjectStoreEvents.Create(3, "held"), TestContext.Current.CancellationToken);
        await client.PutStarted.WaitAsync(TestContext.Current.CancellationToken);

        exporter.Dispose();
        exporter.Dispose();

        Assert.Equal(0, client.Disposals);
        client.ReleasePut();
        await export;
        Assert.Equal(1, client.Disposals);
        Assert.Equal(1, client.PutCalls);
    }

    [Fact]
    public async Task Export_AfterDispose_ThrowsObjectDisposed_WithoutWaitingOrUploading()
    {
        var client = new HeldPutClient();
        var exporter = new S3Exporter(Options, client, ownsClient: true, EventType.Feature, timeProvider: null, logger: null);

        exporter.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(1, "late"), TestContext.Current.CancellationToken));
        Assert.Equal(1, client.Disposals);
        Assert.Equal(0, client.PutCalls);
    }

    [Fact]
    public async Task Export_AfterDispose_WhileAnAbandonedExportStillRuns_FailsAtOnce()
    {
        var client = new HeldPutClient();
        var exporter = new S3Exporter(Options, client, ownsClient: true, EventType.Feature, timeProvider: null, logger: null);
        Task abandoned = exporter.ExportAsync(ObjectStoreEvents.Create(3, "held"), TestContext.Current.CancellationToken);
        await client.PutStarted.WaitAsync(TestContext.Current.CancellationToken);
        exporter.Dispose();

        Task late = exporter.ExportAsync(ObjectStoreEvents.Create(1, "late"), TestContext.Current.CancellationToken);

        Assert.True(late.IsCompleted, "An export after Dispose waited behind the abandoned one.");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => late);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => exporter.VerifyBucketAsync(TestContext.Current.CancellationToken));
        client.ReleasePut();
        await abandoned;
        Assert.Equal((1, 1), (client.PutCalls, client.Disposals));
    }

    [Fact]
    public async Task Dispose_OfAnExporterGivenAClient_LeavesThatClientOpen()
    {
        var client = new HeldPutClient();
        var exporter = new S3Exporter(Options, client);

        exporter.Dispose();

        Assert.Equal(0, client.Disposals);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(1, "late"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Dispose_RacingExports_NeverDisposesTheClientUnderAnUpload_AndDisposesItOnce()
    {
        for (int round = 0; round < 300; round++)
        {
            var client = new RacingClient();
            var exporter = new S3Exporter(Options, client, ownsClient: true, EventType.Feature, timeProvider: null, logger: null);
            Task[] exports = [.. Enumerable.Range(0, 2).Select(i => Task.Run(() => exporter.ExportAsync(ObjectStoreEvents.Create(1, $"r{i}"), TestContext.Current.CancellationToken)))];
            await Task.Delay(round % 3, TestContext.Current.CancellationToken);

            exporter.Dispose();

            foreach (Task export in exports)
            {
                try
                {
                    await export;
                }
                catch (ObjectDisposedException)
                {
                    // arrived after Dispose: refused, as it should be
                }
            }

            Assert.Equal((1, 0), (client.Disposals, client.UploadsDisposedUnder));
        }
    }

    /// <summary>A client whose PutObject yields a few times, noting whether the client was disposed meanwhile.</summary>
    private sealed class RacingClient() : AmazonS3Client(new BasicAWSCredentials("key", "secret"), new AmazonS3Config { ServiceURL = "http://127.0.0.1:9", ForcePathStyle = true })
    {
        private int _disposals;
        private int _inFlight;
        private int _disposedUnder;

        public int Disposals => Volatile.Read(ref _disposals);

        public int UploadsDisposedUnder => Volatile.Read(ref _disposedUnder);

        public override async Task<PutObjectResponse> PutObjectAsync(PutObjectRequest request, CancellationToken cancellationToken = default)
        {
            _ = Interlocked.Increment(ref _inFlight);
            for (int i = 0; i < 3; i++)
            {
                await Task.Yield();
            }

            if (Volatile.Read(ref _disposals) != 0)
            {
                _ = Interlocked.Increment(ref _disposedUnder);
            }

            _ = Interlocked.Decrement(ref _inFlight);
            return new PutObjectResponse { HttpStatusCode = System.Net.HttpStatusCode.OK };
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (Volatile.Read(ref _inFlight) != 0)
                {
                    _ = Interlocked.Increment(ref _disposedUnder);
                }

                _ = Interlocked.Increment(ref _disposals);
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A client whose PutObject waits until the test releases it, and that counts its disposals.</summary>
    private sealed class HeldPutClient() : AmazonS3Client(new BasicAWSCredentials("key", "secret"), new AmazonS3Config { ServiceURL = "http://127.0.0.1:9", ForcePathStyle = true })
    {
        private readonly TaskCompletionSource _putStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _disposals;
        private int _putCalls;

        public Task PutStarted => _putStarted.Task;

        public int Disposals => Volatile.Read(ref _disposals);

        public int PutCalls => Volatile.Read(ref _putCalls);

        public void ReleasePut() => _release.TrySetResult();

        public override async Task<PutObjectResponse> PutObjectAsync(PutObjectRequest request, CancellationToken cancellationToken = default)
        {
            _ = Interlocked.Increment(ref _putCalls);
            _putStarted.TrySetResult();
            await _release.Task.WaitAsync(cancellationToken);
            return new PutObjectResponse { HttpStatusCode = System.Net.HttpStatusCode.OK };
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _ = Interlocked.Increment(ref _disposals);
            }

            base.Dispose(disposing);
        }
    }
}

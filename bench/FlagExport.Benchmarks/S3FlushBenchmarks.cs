using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using BenchmarkDotNet.Attributes;
using FlagExport.Buffers;
using FlagExport.Formats;
using FlagExport.S3;

namespace FlagExport.Benchmarks;

/// <summary>
/// The end-to-end flush of 100,000 events (JSON lines) into the local S3 server: <see cref="S3Exporter"/> (encoding,
/// key choice, conditional write, multipart above the threshold) against one raw
/// <c>PutObject</c> of the same encoded bytes through the same client: the floor the network and the server set.
/// Needs <c>S3_ENDPOINT</c>, <c>S3_BUCKET</c> and the AWS credentials in the environment (<c>bench/run.sh</c> starts the
/// server of <c>tests/s3-server</c>).
/// </summary>
[MemoryDiagnoser]
public class S3FlushBenchmarks
{
    public const int Events = 100_000;

    private AmazonS3Client _client = null!;
    private S3Exporter _exporter = null!;
    private ExportableEvent[] _events = [];
    private byte[] _encoded = [];
    private string _bucket = "";

    /// <summary>
    /// The exporter's <see cref="S3ExporterOptions.MultipartThreshold"/>: its default (64 MiB: the ~25 MB batch goes in
    /// one PutObject, as the baseline), or 16 MiB (four 8 MiB parts, four at a time), to show what multipart costs here.
    /// </summary>
    [Params(S3ExporterOptions.DefaultMultipartThreshold, 16L * 1024 * 1024)]
    public long MultipartThreshold { get; set; } = S3ExporterOptions.DefaultMultipartThreshold;

    /// <summary>Whether the environment names a server to write to.</summary>
    public static bool IsConfigured => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("S3_ENDPOINT"));

    [GlobalSetup]
    public void Setup()
    {
        string endpoint = Environment.GetEnvironmentVariable("S3_ENDPOINT") ?? throw new InvalidOperationException("S3_ENDPOINT is not set.");
        _bucket = Environment.GetEnvironmentVariable("S3_BUCKET") ?? "flagexport-test";
        _client = new AmazonS3Client(new AmazonS3Config
        {
            ServiceURL = endpoint,
            AuthenticationRegion = Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1",
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
        _ = _client.PutBucketAsync(_bucket).ContinueWith(_ => { }, TaskScheduler.Default).Wait(TimeSpan.FromSeconds(30));
        _events = SampleBatch.Create(Events);
        _exporter = new S3Exporter(
            new S3ExporterOptions
            {
                Bucket = _bucket, S3Path = "bench/flagexport/", Filename = "{{ .UUID}}.{{ .Format}}", MultipartThreshold = MultipartThreshold,
            },
            _client);

        using var buffer = new PooledBufferWriter(32 * 1024 * 1024);
        JsonLinesEncoder.Instance.EncodeAsync(_events, buffer, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _encoded = buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Deletes what the iteration wrote: the local server keeps its objects in memory and stalls writes once full,
    /// which would measure the server's back-pressure instead of the flush.
    /// </summary>
    [IterationCleanup]
    public void DeleteObjects()
    {
        string? token = null;
        do
        {
            ListObjectsV2Response page = _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = "bench/", ContinuationToken = token }).GetAwaiter().GetResult();
            if (page.S3Objects is { Count: > 0 } objects)
            {
                _ = _client.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = _bucket,
                    Objects = [.. objects.Select(o => new KeyVersion { Key = o.Key })],
                }).GetAwaiter().GetResult();
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        DeleteObjects();
        _exporter.Dispose();
        _client.Dispose();
    }

    /// <summary>The floor: the same bytes, already encoded, in one PutObject.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public async Task RawPutObject()
    {
        using var body = new MemoryStream(_encoded, writable: false);
        _ = await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = $"bench/raw/{Guid.NewGuid():N}.json",
            InputStream = body,
            AutoCloseStream = false,
            UseChunkEncoding = false,
        });
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public Task FlagExportFlush() => _exporter.ExportAsync(new ExportBatch(_events), CancellationToken.None);
}

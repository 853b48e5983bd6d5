using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.S3.Tests.Support;

/// <summary>
/// A real client for the real server that also counts calls and injects faults on chosen calls: a failed part, or an
/// upload that succeeds on the server but whose answer is "lost" (the call throws after it completed).
/// </summary>
internal sealed class FaultyS3Client(AmazonS3Config config) : AmazonS3Client(config)
{
    private int _putCalls;
    private int _partCalls;
    private int _completeCalls;
    private int _partsInFlight;
    private int _maxPartsInFlight;

    /// <summary>PutObject call numbers (1-based) that throw after the object was written.</summary>
    public HashSet<int> LosePutAnswer { get; } = [];

    /// <summary>PutObject call numbers (1-based) that throw before anything is sent.</summary>
    public HashSet<int> FailPut { get; } = [];

    /// <summary>UploadPart part numbers that throw before anything is sent.</summary>
    public HashSet<int> FailPart { get; } = [];

    public int PutCalls => _putCalls;

    public int PartCalls => _partCalls;

    public int CompleteCalls => _completeCalls;

    /// <summary>The most UploadPart calls that were running at the same time.</summary>
    public int MaxPartsInFlight => _maxPartsInFlight;

    public override async Task<PutObjectResponse> PutObjectAsync(PutObjectRequest request, CancellationToken cancellationToken = default)
    {
        int call = Interlocked.Increment(ref _putCalls);
        if (FailPut.Contains(call))
        {
            throw new HttpRequestException("injected: connection reset before sending", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset));
        }

        PutObjectResponse response = await base.PutObjectAsync(request, cancellationToken);
        return LosePutAnswer.Contains(call)
            ? throw new HttpRequestException("injected: connection reset after the object was written", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset))
            : response;
    }

    public override async Task<UploadPartResponse> UploadPartAsync(UploadPartRequest request, CancellationToken cancellationToken = default)
    {
        _ = Interlocked.Increment(ref _partCalls);
        if (FailPart.Contains(request.PartNumber ?? 0))
        {
            throw new HttpRequestException($"injected: part {request.PartNumber} failed");
        }

        int inFlight = Interlocked.Increment(ref _partsInFlight);
        InterlockedMax(ref _maxPartsInFlight, inFlight);
        try
        {
            return await base.UploadPartAsync(request, cancellationToken);
        }
        finally
        {
            _ = Interlocked.Decrement(ref _partsInFlight);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    private int _taggingCalls;

    /// <summary>PutObjectTagging call numbers (1-based) that throw before anything is sent.</summary>
    public HashSet<int> FailPutTagging { get; } = [];

    public int TaggingCalls => _taggingCalls;

    public override Task<PutObjectTaggingResponse> PutObjectTaggingAsync(PutObjectTaggingRequest request, CancellationToken cancellationToken = default)
    {
        int call = Interlocked.Increment(ref _taggingCalls);
        return FailPutTagging.Contains(call)
            ? throw new HttpRequestException("injected: connection reset before tagging", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset))
            : base.PutObjectTaggingAsync(request, cancellationToken);
    }

    /// <summary>CompleteMultipartUpload call numbers (1-based) that throw after the object was assembled.</summary>
    public HashSet<int> LoseCompleteAnswer { get; } = [];

    public override async Task<CompleteMultipartUploadResponse> CompleteMultipartUploadAsync(CompleteMultipartUploadRequest request, CancellationToken cancellationToken = default)
    {
        int call = Interlocked.Increment(ref _completeCalls);
        CompleteMultipartUploadResponse response = await base.CompleteMultipartUploadAsync(request, cancellationToken);
        return LoseCompleteAnswer.Contains(call)
            ? throw new HttpRequestException("injected: connection reset after the upload was completed")
            : response;
    }
}

using System.Collections.Concurrent;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.Testing;

/// <summary>
/// An in-memory S3 for the calls the exporter makes: PutObject, HeadObject, GetObject, ListObjectsV2, HeadBucket,
/// PutObjectTagging, multipart Initiate/UploadPart/Complete/Abort and ListMultipartUploads. <c>If-None-Match: *</c> is
/// honoured on PutObject and on CompleteMultipartUpload (stricter than radosgw 16, which ignores it on completion).
/// </summary>
/// <remarks>
/// A subclass of <see cref="AmazonS3Client"/> overriding only the used virtual methods: the smallest honest way to
/// implement the several hundred members of <see cref="IAmazonS3"/>. Any call not overridden goes to the base client,
/// whose endpoint is unroutable and whose credentials are fake, so it fails loudly instead of passing silently.
/// Thread-safe: one lock guards the store, calls and fault plan.
/// </remarks>
public sealed class InMemoryS3 : AmazonS3Client
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, StoredObject> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Upload> _uploads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _callCounts = new(StringComparer.Ordinal);
    private readonly List<Fault> _faults = [];
    private readonly List<string> _calls = [];
    private int _nextUpload;

    public InMemoryS3(params string[] buckets)
        : base(new BasicAWSCredentials("in-memory", "in-memory"), new AmazonS3Config { ServiceURL = "http://127.0.0.1:9", ForcePathStyle = true, MaxErrorRetry = 0 })
    {
        Buckets = [.. buckets];
    }

    public HashSet<string> Buckets { get; }

    /// <summary>Each call made, as "Operation key" (or "Operation bucket"), in order.</summary>
    public IReadOnlyList<string> Calls
    {
        get { lock (_lock) { return [.. _calls]; } }
    }

    /// <summary>The multipart uploads started and neither completed nor aborted.</summary>
    public int OpenUploads
    {
        get { lock (_lock) { return _uploads.Count; } }
    }

    /// <summary>Makes call number <paramref name="call"/> (1-based) of <paramref name="operation"/> throw before it acts.</summary>
    public InMemoryS3 Fail(string operation, int call, Exception exception)
    {
        lock (_lock) { _faults.Add(new Fault(operation, call, exception, AfterCommit: false, Before: null)); }
        return this;
    }

    /// <summary>Makes call <paramref name="call"/> of <paramref name="operation"/> act, then throw: the answer is lost.</summary>
    public InMemoryS3 CommitThenFail(string operation, int call, Exception exception)
    {
        lock (_lock) { _faults.Add(new Fault(operation, call, exception, AfterCommit: true, Before: null)); }
        return this;
    }

    /// <summary>
    /// Stores an object of another writer at <paramref name="key"/> just before call <paramref name="call"/> of
    /// <paramref name="operation"/> acts: the race between a writer's look and its write.
    /// </summary>
    public InMemoryS3 WriteBefore(string operation, int call, string bucket, string key, byte[] body)
    {
        lock (_lock) { _faults.Add(new Fault(operation, call, null, AfterCommit: false, () => Store(bucket, key, body, [], ifNoneMatch: null))); }
        return this;
    }

    public static AmazonS3Exception Status(HttpStatusCode status, string errorCode) =>
        new($"injected: {errorCode}", ErrorType.Sender, errorCode, "in-memory", status);

    public static HttpRequestException NetworkError() =>
        new("injected: connection reset", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset));

    public bool TryGet(string bucket, string key, out byte[] body, out IReadOnlyDictionary<string, string> metadata)
    {
        lock (_lock)
        {
            bool found = _objects.TryGetValue(Id(bucket, key), out StoredObject? stored);
            body = stored?.Body ?? [];
            metadata = stored?.Metadata ?? new Dictionary<string, string>();
            return found;
        }
    }

    public string[] Keys(string bucket, string prefix = "")
    {
        lock (_lock)
        {
            return [.. _objects.Values.Where(o => o.Bucket == bucket && o.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(o => o.Key).Order(StringComparer.Ordinal)];
        }
    }

    public override Task<HeadBucketResponse> HeadBucketAsync(HeadBucketRequest request, CancellationToken cancellationToken = default) =>
        Run("HeadBucket", request.BucketName, () =>
        {
            RequireBucket(request.BucketName);
            return new HeadBucketResponse { HttpStatusCode = HttpStatusCode.OK };
        });

    public override Task<PutObjectResponse> PutObjectAsync(PutObjectRequest request, CancellationToken cancellationToken = default)
    {
        byte[] body = Read(request.InputStream);
        if (request.AutoCloseStream)
        {
            request.InputStream?.Dispose();
        }

        return Run("PutObject", request.Key, () =>
        {
            Store(request.BucketName, request.Key, body, Metadata(request.Metadata), request.IfNoneMatch);
            return new PutObjectResponse { HttpStatusCode = HttpStatusCode.OK, ServerSideEncryptionMethod = request.ServerSideEncryptionMethod };
        });
    }

    public override Task<GetObjectMetadataResponse> GetObjectMetadataAsync(GetObjectMetadataRequest request, CancellationToken cancellationToken = default) =>
        Run("HeadObject", request.Key, () =>
        {
            StoredObject stored = Find(request.BucketName, request.Key);
            var response = new GetObjectMetadataResponse { HttpStatusCode = HttpStatusCode.OK, ContentLength = stored.Body.Length };
            foreach ((string name, string value) in stored.Metadata)
            {
                response.Metadata[name] = value;
            }

            return response;
        });

    public override Task<GetObjectResponse> GetObjectAsync(GetObjectRequest request, CancellationToken cancellationToken = default) =>
        Run("GetObject", request.Key, () =>
        {
            StoredObject stored = Find(request.BucketName, request.Key);
            var response = new GetObjectResponse
            {
                HttpStatusCode = HttpStatusCode.OK,
                BucketName = request.BucketName,
                Key = request.Key,
                ContentLength = stored.Body.Length,
                ResponseStream = new MemoryStream(stored.Body, writable: false),
            };
            foreach ((string name, string value) in stored.Metadata)
            {
                response.Metadata[name] = value;
            }

            return response;
        });

    public override Task<ListObjectsV2Response> ListObjectsV2Async(ListObjectsV2Request request, CancellationToken cancellationToken = default) =>
        Run("ListObjectsV2", request.BucketName, () =>
        {
            RequireBucket(request.BucketName);
            string prefix = request.Prefix ?? "";
            return new ListObjectsV2Response
            {
                HttpStatusCode = HttpStatusCode.OK,
                IsTruncated = false,
                S3Objects =
                [
                    .. _objects.Values
                        .Where(o => o.Bucket == request.BucketName && o.Key.StartsWith(prefix, StringComparison.Ordinal))
                        .OrderBy(o => o.Key, StringComparer.Ordinal)
                        .Select(o => new S3Object { BucketName = o.Bucket, Key = o.Key, Size = o.Body.Length }),
                ],
            };
        });

    public override Task<PutObjectTaggingResponse> PutObjectTaggingAsync(PutObjectTaggingRequest request, CancellationToken cancellationToken = default) =>
        Run("PutObjectTagging", request.Key, () =>
        {
            StoredObject stored = Find(request.BucketName, request.Key);
            stored.Tags = [.. request.Tagging.TagSet];
            return new PutObjectTaggingResponse { HttpStatusCode = HttpStatusCode.OK };
        });

    public override Task<InitiateMultipartUploadResponse> InitiateMultipartUploadAsync(InitiateMultipartUploadRequest request, CancellationToken cancellationToken = default) =>
        Run("InitiateMultipartUpload", request.Key, () =>
        {
            RequireBucket(request.BucketName);
            string uploadId = $"upload-{++_nextUpload}";
            _uploads[uploadId] = new Upload(request.BucketName, request.Key, Metadata(request.Metadata));
            return new InitiateMultipartUploadResponse
            {
                HttpStatusCode = HttpStatusCode.OK,
                BucketName = request.BucketName,
                Key = request.Key,
                UploadId = uploadId,
                ServerSideEncryptionMethod = request.ServerSideEncryptionMethod,
            };
        });

    public override Task<UploadPartResponse> UploadPartAsync(UploadPartRequest request, CancellationToken cancellationToken = default)
    {
        byte[] body = Read(request.InputStream);
        return Run("UploadPart", request.Key, () =>
        {
            Upload upload = FindUpload(request.UploadId, request.Key);
            int number = request.PartNumber ?? throw Status(HttpStatusCode.BadRequest, "InvalidArgument");
            upload.Parts[number] = body;
            return new UploadPartResponse { HttpStatusCode = HttpStatusCode.OK, PartNumber = number, ETag = $"\"{request.UploadId}-{number}-{body.Length}\"" };
        });
    }

    public override Task<CompleteMultipartUploadResponse> CompleteMultipartUploadAsync(CompleteMultipartUploadRequest request, CancellationToken cancellationToken = default) =>
        Run("CompleteMultipartUpload", request.Key, () =>
        {
            Upload upload = FindUpload(request.UploadId, request.Key);
            List<PartETag> listed = request.PartETags ?? [];
            if (listed.Count == 0)
            {
                throw Status(HttpStatusCode.BadRequest, "MalformedXML");
            }

            // The object is the listed parts in ascending order, each exactly as uploaded.
            var body = new MemoryStream();
            int previous = 0;
            foreach (PartETag part in listed)
            {
                int number = part.PartNumber ?? 0;
                if (number <= previous)
                {
                    throw Status(HttpStatusCode.BadRequest, "InvalidPartOrder");
                }

                if (!upload.Parts.TryGetValue(number, out byte[]? bytes) || part.ETag != $"\"{request.UploadId}-{number}-{bytes.Length}\"")
                {
                    throw Status(HttpStatusCode.BadRequest, "InvalidPart");
                }

                body.Write(bytes);
                previous = number;
            }

            Store(upload.Bucket, upload.Key, body.ToArray(), upload.Metadata, request.IfNoneMatch);
            _ = _uploads.Remove(request.UploadId);
            return new CompleteMultipartUploadResponse { HttpStatusCode = HttpStatusCode.OK, BucketName = upload.Bucket, Key = upload.Key };
        });

    public override Task<AbortMultipartUploadResponse> AbortMultipartUploadAsync(AbortMultipartUploadRequest request, CancellationToken cancellationToken = default) =>
        Run("AbortMultipartUpload", request.Key, () =>
        {
            _ = FindUpload(request.UploadId, request.Key);
            _ = _uploads.Remove(request.UploadId);
            return new AbortMultipartUploadResponse { HttpStatusCode = HttpStatusCode.NoContent };
        });

    public override Task<ListMultipartUploadsResponse> ListMultipartUploadsAsync(ListMultipartUploadsRequest request, CancellationToken cancellationToken = default) =>
        Run("ListMultipartUploads", request.BucketName, () =>
        {
            RequireBucket(request.BucketName);
            string prefix = request.Prefix ?? "";
            return new ListMultipartUploadsResponse
            {
                HttpStatusCode = HttpStatusCode.OK,
                IsTruncated = false,
                MultipartUploads =
                [
                    .. _uploads
                        .Where(u => u.Value.Bucket == request.BucketName && u.Value.Key.StartsWith(prefix, StringComparison.Ordinal))
                        .Select(u => new MultipartUpload { Key = u.Value.Key, UploadId = u.Key }),
                ],
            };
        });

    private static string Id(string bucket, string key) => $"{bucket}/{key}";

    private static byte[] Read(Stream? stream)
    {
        using var copy = new MemoryStream();
        stream?.CopyTo(copy);
        return copy.ToArray();
    }

    private static Dictionary<string, string> Metadata(MetadataCollection metadata) =>
        metadata.Keys.ToDictionary(k => k.StartsWith("x-amz-meta-", StringComparison.Ordinal) ? k["x-amz-meta-".Length..] : k, k => metadata[k], StringComparer.Ordinal);

    /// <summary>Counts and records the call, applies its fault, and runs <paramref name="act"/> under the lock.</summary>
    private Task<T> Run<T>(string operation, string target, Func<T> act)
    {
        lock (_lock)
        {
            _calls.Add($"{operation} {target}");
            int call = _callCounts[operation] = _callCounts.GetValueOrDefault(operation) + 1;
            Fault? fault = _faults.Find(f => f.Operation == operation && f.Call == call);
            fault?.Before?.Invoke();
            if (fault is { AfterCommit: false, Exception: { } before })
            {
                return Task.FromException<T>(before);
            }

            try
            {
                T result = act();
                return fault is { AfterCommit: true, Exception: { } after } ? Task.FromException<T>(after) : Task.FromResult(result);
            }
            catch (AmazonS3Exception exception)
            {
                return Task.FromException<T>(exception);
            }
        }
    }

    private void RequireBucket(string bucket)
    {
        if (!Buckets.Contains(bucket))
        {
            throw Status(HttpStatusCode.NotFound, "NoSuchBucket");
        }
    }

    private void Store(string bucket, string key, byte[] body, Dictionary<string, string> metadata, string? ifNoneMatch)
    {
        RequireBucket(bucket);
        string id = Id(bucket, key);
        if (ifNoneMatch == "*" && _objects.ContainsKey(id))
        {
            throw Status(HttpStatusCode.PreconditionFailed, "PreconditionFailed");
        }

        _objects[id] = new StoredObject(bucket, key, body, metadata);
    }

    private StoredObject Find(string bucket, string key)
    {
        RequireBucket(bucket);
        return _objects.TryGetValue(Id(bucket, key), out StoredObject? stored) ? stored : throw Status(HttpStatusCode.NotFound, "NoSuchKey");
    }

    private Upload FindUpload(string uploadId, string key) =>
        _uploads.TryGetValue(uploadId, out Upload? upload) && upload.Key == key ? upload : throw Status(HttpStatusCode.NotFound, "NoSuchUpload");

    private sealed record Fault(string Operation, int Call, Exception? Exception, bool AfterCommit, Action? Before);

    private sealed record Upload(string Bucket, string Key, Dictionary<string, string> Metadata)
    {
        public ConcurrentDictionary<int, byte[]> Parts { get; } = new();
    }

    private sealed class StoredObject(string bucket, string key, byte[] body, Dictionary<string, string> metadata)
    {
        public string Bucket { get; } = bucket;

        public string Key { get; } = key;

        public byte[] Body { get; } = body;

        public Dictionary<string, string> Metadata { get; } = metadata;

        public List<Tag> Tags { get; set; } = [];
    }
}

using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.S3.Tests.Support;

/// <summary>The in-memory S3 keeps the promises the exporter's logic tests rely on.</summary>
public sealed class InMemoryS3Tests
{
    private const string Bucket = "in-memory-bucket";

    [Fact]
    public async Task PutObject_IfNoneMatchOnAnExistingKey_IsRefusedWith412AndKeepsTheObject()
    {
        using var s3 = new InMemoryS3(Bucket);
        await PutAsync(s3, "k", [1], ifNoneMatch: "*");

        var refused = await Assert.ThrowsAsync<AmazonS3Exception>(() => PutAsync(s3, "k", [2], ifNoneMatch: "*"));

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.True(s3.TryGet(Bucket, "k", out byte[] body, out _));
        Assert.Equal([1], body);
    }

    [Fact]
    public async Task PutObject_WithoutIfNoneMatch_Overwrites()
    {
        using var s3 = new InMemoryS3(Bucket);
        await PutAsync(s3, "k", [1], ifNoneMatch: null);
        await PutAsync(s3, "k", [2], ifNoneMatch: null);

        Assert.True(s3.TryGet(Bucket, "k", out byte[] body, out _));
        Assert.Equal([2], body);
    }

    [Fact]
    public async Task CompleteMultipartUpload_IfNoneMatchOnAnExistingKey_IsRefusedWith412()
    {
        using var s3 = new InMemoryS3(Bucket);
        await PutAsync(s3, "k", [9], ifNoneMatch: null);
        string uploadId = (await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Bucket, Key = "k" }, TestContext.Current.CancellationToken)).UploadId;
        PartETag part = await PartAsync(s3, uploadId, 1, [1]);

        var refused = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.CompleteMultipartUploadAsync(
            new CompleteMultipartUploadRequest { BucketName = Bucket, Key = "k", UploadId = uploadId, PartETags = [part], IfNoneMatch = "*" }, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.True(s3.TryGet(Bucket, "k", out byte[] body, out _));
        Assert.Equal([9], body);
    }

    [Fact]
    public async Task CompleteMultipartUpload_PartsUploadedOutOfOrder_AreAssembledByPartNumberWithTheInitiateMetadata()
    {
        using var s3 = new InMemoryS3(Bucket);
        var initiate = new InitiateMultipartUploadRequest { BucketName = Bucket, Key = "k" };
        initiate.Metadata["flagexport-write-id"] = "w1";
        string uploadId = (await s3.InitiateMultipartUploadAsync(initiate, TestContext.Current.CancellationToken)).UploadId;
        PartETag third = await PartAsync(s3, uploadId, 3, [5, 6]);
        PartETag first = await PartAsync(s3, uploadId, 1, [1, 2]);
        PartETag second = await PartAsync(s3, uploadId, 2, [3, 4]);

        _ = await s3.CompleteMultipartUploadAsync(
            new CompleteMultipartUploadRequest { BucketName = Bucket, Key = "k", UploadId = uploadId, PartETags = [first, second, third] }, TestContext.Current.CancellationToken);

        Assert.True(s3.TryGet(Bucket, "k", out byte[] body, out IReadOnlyDictionary<string, string> metadata));
        Assert.Equal([1, 2, 3, 4, 5, 6], body);
        Assert.Equal("w1", metadata["flagexport-write-id"]);
        GetObjectMetadataResponse head = await s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = "k" }, TestContext.Current.CancellationToken);
        Assert.Equal("w1", head.Metadata["flagexport-write-id"]);
        Assert.Equal(0, s3.OpenUploads);
    }

    [Fact]
    public async Task AbortMultipartUpload_RemovesTheUploadAndASecondAbortIsNoSuchUpload()
    {
        using var s3 = new InMemoryS3(Bucket);
        string uploadId = (await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Bucket, Key = "k" }, TestContext.Current.CancellationToken)).UploadId;
        _ = await PartAsync(s3, uploadId, 1, [1]);
        var abort = new AbortMultipartUploadRequest { BucketName = Bucket, Key = "k", UploadId = uploadId };

        _ = await s3.AbortMultipartUploadAsync(abort, TestContext.Current.CancellationToken);

        Assert.Equal(0, s3.OpenUploads);
        Assert.Empty((await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket }, TestContext.Current.CancellationToken)).MultipartUploads);
        var again = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.AbortMultipartUploadAsync(abort, TestContext.Current.CancellationToken));
        Assert.Equal("NoSuchUpload", again.ErrorCode);
        Assert.Empty(s3.Keys(Bucket));
    }

    [Fact]
    public async Task Fail_TheChosenCall_ThrowsBeforeActingAndLaterCallsSucceed()
    {
        using var s3 = new InMemoryS3(Bucket);
        _ = s3.Fail("PutObject", 2, InMemoryS3.Status(HttpStatusCode.ServiceUnavailable, "SlowDown"));
        await PutAsync(s3, "a", [1], ifNoneMatch: null);

        var failed = await Assert.ThrowsAsync<AmazonS3Exception>(() => PutAsync(s3, "b", [2], ifNoneMatch: null));
        await PutAsync(s3, "c", [3], ifNoneMatch: null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal(["a", "c"], s3.Keys(Bucket));
        Assert.Equal(["PutObject a", "PutObject b", "PutObject c"], s3.Calls);
    }

    [Fact]
    public async Task CommitThenFail_TheObjectIsWrittenButTheCallThrows()
    {
        using var s3 = new InMemoryS3(Bucket);
        _ = s3.CommitThenFail("PutObject", 1, InMemoryS3.NetworkError());

        _ = await Assert.ThrowsAsync<HttpRequestException>(() => PutAsync(s3, "a", [1], ifNoneMatch: null));

        Assert.Equal(["a"], s3.Keys(Bucket));
    }

    [Fact]
    public async Task UnknownBucket_IsNoSuchBucket()
    {
        using var s3 = new InMemoryS3(Bucket);

        var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.HeadBucketAsync(new HeadBucketRequest { BucketName = "other" }, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private static async Task PutAsync(InMemoryS3 s3, string key, byte[] body, string? ifNoneMatch) =>
        _ = await s3.PutObjectAsync(
            new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(body), IfNoneMatch = ifNoneMatch }, TestContext.Current.CancellationToken);

    private static async Task<PartETag> PartAsync(InMemoryS3 s3, string uploadId, int number, byte[] body)
    {
        UploadPartResponse response = await s3.UploadPartAsync(
            new UploadPartRequest { BucketName = Bucket, Key = "k", UploadId = uploadId, PartNumber = number, InputStream = new MemoryStream(body) }, TestContext.Current.CancellationToken);
        return new PartETag(response) { PartNumber = number };
    }
}

using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.Testing;

/// <summary>Reads back what the tests wrote, with a client of the test's own.</summary>
public static class S3Read
{
    public static async Task<List<S3Object>> ListAsync(IAmazonS3 s3, string bucket, string prefix)
    {
        var objects = new List<S3Object>();
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        ListObjectsV2Response response;
        do
        {
            response = await s3.ListObjectsV2Async(request, TestContext.Current.CancellationToken);
            objects.AddRange(response.S3Objects ?? []);
            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);

        return [.. objects.OrderBy(o => o.Key, StringComparer.Ordinal)];
    }

    public static async Task<string[]> KeysAsync(IAmazonS3 s3, string bucket, string prefix) =>
        [.. (await ListAsync(s3, bucket, prefix)).Select(o => o.Key)];

    public static async Task<(byte[] Body, GetObjectResponse Response)> GetAsync(IAmazonS3 s3, string bucket, string key)
    {
        using GetObjectResponse response = await s3.GetObjectAsync(bucket, key, TestContext.Current.CancellationToken);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.HttpStatusCode);
        return (copy.ToArray(), response);
    }
}

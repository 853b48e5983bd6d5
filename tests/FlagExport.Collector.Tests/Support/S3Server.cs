using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.Collector.Tests.Support;

/// <summary>
/// The real S3 server of the suite, found (or skipped, or failed under CI) by the S3 tests' own
/// <see cref="S3TestServer"/>, whose source is linked into this project; plus what the collector tests need on top.
/// </summary>
public sealed class S3Server
{
    private readonly S3TestServer _server;

    private S3Server(S3TestServer server) => _server = server;

    public string Endpoint => _server.Endpoint;

    public string Bucket => _server.Bucket;

    public string Region => _server.Region;

    public static async Task<S3Server> RequireAsync() => new(await S3TestServer.RequireAsync());

    /// <summary>The collector settings of an s3 exporter writing under <paramref name="prefix"/> of the test bucket.</summary>
    public Dictionary<string, string?> Exporter(int index, string prefix, string format, string eventType = "feature") => new()
    {
        [$"exporters:{index}:kind"] = "s3",
        [$"exporters:{index}:bucket"] = Bucket,
        [$"exporters:{index}:path"] = prefix,
        [$"exporters:{index}:format"] = format,
        [$"exporters:{index}:eventType"] = eventType,
        [$"exporters:{index}:serviceUrl"] = Endpoint,
        [$"exporters:{index}:forcePathStyle"] = "true",
        [$"exporters:{index}:region"] = Region,
        [$"exporters:{index}:requestChecksumCalculation"] = "WHEN_REQUIRED",
        [$"exporters:{index}:flushInterval"] = "3600000",
    };

    public AmazonS3Client CreateClient() => _server.CreateClient();

    /// <summary>The objects under <paramref name="prefix"/>, by key.</summary>
    public async Task<SortedDictionary<string, byte[]>> ReadAllAsync(string prefix)
    {
        using AmazonS3Client s3 = CreateClient();
        var objects = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        ListObjectsV2Response list = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix }, TestContext.Current.CancellationToken);
        foreach (S3Object item in list.S3Objects ?? [])
        {
            using GetObjectResponse response = await s3.GetObjectAsync(Bucket, item.Key, TestContext.Current.CancellationToken);
            using var copy = new MemoryStream();
            await response.ResponseStream.CopyToAsync(copy, TestContext.Current.CancellationToken);
            objects[item.Key] = copy.ToArray();
        }

        return objects;
    }

    /// <summary>Deletes every object under <paramref name="prefix"/>: the server keeps its data in memory.</summary>
    public async Task DeleteAllAsync(string prefix)
    {
        using AmazonS3Client s3 = CreateClient();
        foreach (S3Object item in await S3Read.ListAsync(s3, Bucket, prefix))
        {
            _ = await s3.DeleteObjectAsync(Bucket, item.Key, TestContext.Current.CancellationToken);
        }
    }

    public static string NewPrefix(string test) => $"collector-tests/{test}-{Guid.NewGuid().ToString("N")[..12]}/";
}

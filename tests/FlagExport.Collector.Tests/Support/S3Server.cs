using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.Collector.Tests.Support;

/// <summary>
/// The real S3 server of the suite, from the environment <c>tests/s3-server/start.sh</c> prints (./test.sh sets it).
/// Without one the S3 tests skip, saying why; with <c>CI=true</c> they fail, because CI always starts the server.
/// </summary>
public sealed class S3Server
{
    private static readonly Lazy<Task<(S3Server? Server, string? Problem)>> s_instance = new(ProbeAsync);

    private S3Server(string endpoint, string bucket, string region)
    {
        Endpoint = endpoint;
        Bucket = bucket;
        Region = region;
    }

    public string Endpoint { get; }

    public string Bucket { get; }

    public string Region { get; }

    public static async Task<S3Server> RequireAsync()
    {
        (S3Server? server, string? problem) = await s_instance.Value;
        if (server is not null)
        {
            return server;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"CI=true but no S3 server is available: {problem}");
        }

        Assert.Skip($"No S3 server: {problem}. Run ./test.sh, or eval \"$(tests/s3-server/start.sh)\" before dotnet test.");
        throw new UnreachableException();
    }

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

    public AmazonS3Client CreateClient() => new(new AmazonS3Config
    {
        ServiceURL = Endpoint,
        AuthenticationRegion = Region,
        ForcePathStyle = true,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

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

    public static string NewPrefix(string test) => $"collector-tests/{test}-{Guid.NewGuid().ToString("N")[..12]}/";

    private static async Task<(S3Server?, string?)> ProbeAsync()
    {
        string? endpoint = Environment.GetEnvironmentVariable("S3_ENDPOINT");
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return (null, "S3_ENDPOINT is not set");
        }

        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID")))
        {
            return (null, "AWS_ACCESS_KEY_ID is not set");
        }

        string bucket = Environment.GetEnvironmentVariable("S3_BUCKET") is { Length: > 0 } b ? b : "flagexport-test";
        string region = Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } r ? r : "us-east-1";
        var server = new S3Server(endpoint.TrimEnd('/'), bucket, region);
        try
        {
            using AmazonS3Client s3 = server.CreateClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            _ = await s3.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket }, timeout.Token);
            return (server, null);
        }
#pragma warning disable CA1031 // Any failure means "no usable server"; the reason is reported.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return (null, $"{endpoint} bucket '{bucket}' is not usable: {exception.GetType().Name}: {exception.Message}");
        }
    }
}

using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.Testing;

/// <summary>
/// The real S3 server the integration tests run against, from the environment that <c>tests/s3-server/start.sh</c>
/// prints (or any S3 a user points <c>S3_ENDPOINT</c> and <c>AWS_*</c> at). Without one the tests skip, saying why;
/// with <c>CI=true</c> they fail instead, because CI always starts the server.
/// </summary>
public sealed class S3TestServer
{
    private static readonly Lazy<Task<(S3TestServer? Server, string? Problem)>> s_instance = new(ProbeAsync);

    private S3TestServer(string endpoint, string bucket, string region)
    {
        Endpoint = endpoint;
        Bucket = bucket;
        Region = region;
    }

    /// <summary>The endpoint, for example <c>http://127.0.0.1:7480</c>.</summary>
    public string Endpoint { get; }

    /// <summary>The shared test bucket; each test writes under its own prefix.</summary>
    public string Bucket { get; }

    public string Region { get; }

    /// <summary>The server, or a skip (a failure under CI) with the reason none is available.</summary>
    public static async Task<S3TestServer> RequireAsync()
    {
        (S3TestServer? server, string? problem) = await s_instance.Value.ConfigureAwait(false);
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

    /// <summary>
    /// A client with the settings radosgw (Ceph 16) needs: path style, checksums only when required. Each client has
    /// connections of its own: radosgw 16 leaves the body of a PUT it refuses early (no such bucket, wrong credentials,
    /// bad storage class) unread on the kept-alive connection and answers the next request there with a 400 ("failed
    /// to read header: bad method"), which must not hit another test that shares the SDK's cached HttpClient.
    /// </summary>
    public AmazonS3Client CreateClient(AWSCredentials? credentials = null) =>
        credentials is null ? new AmazonS3Client(ClientConfig()) : new AmazonS3Client(credentials, ClientConfig());

    public AmazonS3Config ClientConfig() => new()
    {
        ServiceURL = Endpoint,
        AuthenticationRegion = Region,
        ForcePathStyle = true,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        CacheHttpClient = false,
    };

    /// <summary>A key prefix no other test uses.</summary>
    public static string NewPrefix(string test) => $"tests/{test}-{Guid.NewGuid().ToString("N")[..12]}/";

    /// <summary>Creates a bucket no other test uses.</summary>
    public static async Task<string> CreateBucketAsync(IAmazonS3 s3, string purpose)
    {
        string bucket = $"fe-{purpose}-{Guid.NewGuid():N}"[..40].TrimEnd('-');
        _ = await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, TestContext.Current.CancellationToken);
        return bucket;
    }

    /// <summary>Deletes a bucket made by <see cref="CreateBucketAsync"/> and what it holds.</summary>
    public static async Task DeleteBucketAsync(IAmazonS3 s3, string bucket)
    {
        foreach (S3Object item in await S3Read.ListAsync(s3, bucket, ""))
        {
            _ = await s3.DeleteObjectAsync(bucket, item.Key, TestContext.Current.CancellationToken);
        }

        _ = await s3.DeleteBucketAsync(bucket, TestContext.Current.CancellationToken);
    }

    private static async Task<(S3TestServer?, string?)> ProbeAsync()
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
        var server = new S3TestServer(endpoint.TrimEnd('/'), bucket, region);
        try
        {
            using var s3 = server.CreateClient();
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

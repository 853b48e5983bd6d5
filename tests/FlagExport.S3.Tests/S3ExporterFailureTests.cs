using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.S3.Tests;

/// <summary>Missing bucket and wrong credentials, at start-up and at export: clear errors and logs, no secrets.</summary>
public sealed class S3ExporterFailureTests
{
    private const string WrongSecret = "wrong-secret-key-0000000000000000000000000";

    [Fact]
    public async Task VerifyBucketAsync_MissingBucket_SaysTheBucketDoesNotExist()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        var logger = new FakeLogger();
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = "flagexport-no-such-bucket" }, s3, logger: logger);

        var error = await Assert.ThrowsAsync<S3ExportException>(() => exporter.VerifyBucketAsync(TestContext.Current.CancellationToken));

        Assert.Equal($"S3 bucket 'flagexport-no-such-bucket' at {server.Endpoint}/ cannot be used: the bucket does not exist (NotFound, HTTP 404).", error.Message);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal(LogLevel.Error, logger.LatestRecord.Level);
        Assert.Contains("flagexport-no-such-bucket", logger.LatestRecord.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_VerifyBucketOnStartWithMissingBucket_FailsBeforeAnyExport()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();

        var error = await Assert.ThrowsAsync<S3ExportException>(() => S3Exporter.CreateAsync(
            new S3ExporterOptions { Bucket = "flagexport-no-such-bucket", VerifyBucketOnStart = true }, s3, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("the bucket does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_VerifyBucketOnStartWithTheTestBucket_Succeeds()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();

        using S3Exporter exporter = await S3Exporter.CreateAsync(
            new S3ExporterOptions { Bucket = server.Bucket, VerifyBucketOnStart = true }, s3, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(server.Bucket, exporter.Bucket);
    }

    [Fact]
    public async Task ExportAsync_MissingBucket_ThrowsAndLogsBucketKeyAndReason()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        var logger = new FakeLogger();
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = "flagexport-no-such-bucket", S3Path = "a", Filename = "b.{{ .Format}}" }, s3, logger: logger);

        var error = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(2, "x"), TestContext.Current.CancellationToken));

        Assert.Equal("Could not write 2 events to s3://flagexport-no-such-bucket/a/b.json: the bucket does not exist (NoSuchBucket, HTTP 404).", error.Message);
        Assert.Equal(("flagexport-no-such-bucket", "a/b.json", "NoSuchBucket"), (error.Bucket, error.Key, error.ErrorCode));
        Assert.True(error.IsPermanent);
        FakeLogRecord record = logger.LatestRecord;
        Assert.Equal((LogLevel.Debug, "UploadFailed"), (record.Level, record.Id.Name));
        Assert.Equal("Upload of 2 events to s3://flagexport-no-such-bucket/a/b.json failed: the bucket does not exist (NoSuchBucket, HTTP 404).", record.Message);
    }

    [Fact]
    public async Task VerifyBucketAsync_WrongSecretKey_SaysTheCredentialsAreWrong()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient(new BasicAWSCredentials(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"), WrongSecret));
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = server.Bucket }, s3);

        var error = await Assert.ThrowsAsync<S3ExportException>(() => exporter.VerifyBucketAsync(TestContext.Current.CancellationToken));

        Assert.Contains("access denied: the access key id or secret access key is wrong", error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 403", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pipeline_MissingBucket_SetsTheBatchAsideAtOnceWithTheObjectAsItWouldHaveBeenWritten()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string letters = Path.Combine(Path.GetTempPath(), "flagexport-s3-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var options = new S3ExporterOptions { Bucket = "flagexport-no-such-bucket", S3Path = "a", Format = "csv", Filename = "b.{{ .Format}}" };
            using var exporter = new S3Exporter(options, s3);
            FeatureEvent[] events = ObjectStoreEvents.Create(3, "lost-bucket");
            await using (var pipeline = new DataExporter(exporter, new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), DeadLetterDirectory = letters }, name: "s3"))
            {
                foreach (FeatureEvent e in events)
                {
                    _ = pipeline.Add(e);
                }

                var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
                Assert.Contains("set aside as a dead letter", error.Message, StringComparison.Ordinal);
            }

            string letter = Assert.Single(DeadLetters.List(letters));
            Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), await File.ReadAllBytesAsync(Path.Combine(letter, "object.csv"), TestContext.Current.CancellationToken));
            string manifest = await File.ReadAllTextAsync(Path.Combine(letter, "manifest.json"), TestContext.Current.CancellationToken);
            Assert.Contains("\"permanent\": true", manifest, StringComparison.Ordinal);
            using JsonDocument parsed = JsonDocument.Parse(manifest);
            string encoding = parsed.RootElement.GetProperty("intended").GetProperty("export.encoding").GetString()!;
            Assert.Contains("\"fileName\":\"b.csv\"", encoding, StringComparison.Ordinal); // the name a replay writes under
        }
        finally
        {
            if (Directory.Exists(letters))
            {
                Directory.Delete(letters, recursive: true);
            }
        }
    }

    [Fact]
    public async Task ExportAsync_AnotherUsersBucket_SaysAccessDenied_WithBucketAndKey()
    {
        // A real AccessDenied: valid credentials of a user who may not write to the bucket (start.sh's second user).
        S3TestServer server = await S3TestServer.RequireAsync();
        string? otherKey = Environment.GetEnvironmentVariable("S3_OTHER_ACCESS_KEY_ID");
        string? otherSecret = Environment.GetEnvironmentVariable("S3_OTHER_SECRET_ACCESS_KEY");
        if (otherKey is null || otherSecret is null)
        {
            Assert.Skip("S3_OTHER_ACCESS_KEY_ID / S3_OTHER_SECRET_ACCESS_KEY are not set: tests/s3-server/start.sh sets them for a second user.");
        }

        using AmazonS3Client s3 = server.CreateClient(new BasicAWSCredentials(otherKey, otherSecret));
        var logger = new FakeLogger();
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = server.Bucket, S3Path = "denied", Filename = "b.{{ .Format}}" }, s3, logger: logger)
        {
            Writer = { Reservations = new ObjectNameReservations() },
        };

        var error = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(1, "x"), TestContext.Current.CancellationToken));

        Assert.Equal(
            $"Could not write 1 events to s3://{server.Bucket}/denied/b.json: access denied: the credentials lack permission for this request (AccessDenied, HTTP 403).",
            error.Message);
        Assert.Equal(("AccessDenied", "UploadFailed"), (error.ErrorCode, logger.LatestRecord.Id.Name));
        Assert.Contains($"s3://{server.Bucket}/denied/b.json", logger.LatestRecord.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(otherSecret, logger.LatestRecord.Message + error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unknown key id", "wrong credentials: the access key id is not known to the server (InvalidAccessKeyId, HTTP 403)")]
    [InlineData("wrong secret", "wrong credentials: the secret access key does not match the access key id (SignatureDoesNotMatch, HTTP 403)")]
    public async Task ExportAsync_WrongCredentials_SaysWhichAndLogsNoSecret(string mistake, string reason)
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        string accessKey = mistake == "unknown key id" ? "UNKNOWNACCESSKEY0001" : Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID")!;
        using AmazonS3Client s3 = server.CreateClient(new BasicAWSCredentials(accessKey, WrongSecret));
        var logger = new FakeLogger();
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = server.Bucket, S3Path = "creds", Filename = "b.{{ .Format}}" }, s3, logger: logger)
        {
            Writer = { Reservations = new ObjectNameReservations() }, // the exact key is asserted: not "b-1.json" after the other case
        };

        var error = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(1, "x"), TestContext.Current.CancellationToken));

        Assert.Equal($"Could not write 1 events to s3://{server.Bucket}/creds/b.json: {reason}.", error.Message);
        string everything = string.Join('\n', logger.Collector.GetSnapshot().Select(r => r.Message)) + error.Message;
        Assert.DoesNotContain(WrongSecret, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")!, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportAsync_NothingListening_ThrowsANetworkError()
    {
        using var s3 = new AmazonS3Client(new BasicAWSCredentials("a", "b"), new AmazonS3Config
        {
            ServiceURL = "http://127.0.0.1:9", ForcePathStyle = true, MaxErrorRetry = 0, AuthenticationRegion = "us-east-1",
        });
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = "b", Filename = "f.{{ .Format}}" }, s3);

        var error = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(1, "x"), TestContext.Current.CancellationToken));

        Assert.StartsWith("Could not write 1 events to s3://b/f.json: network error: ConnectionRefused", error.Message, StringComparison.Ordinal);
        Assert.Null(error.StatusCode);
    }
}

using Amazon.S3;
using Amazon.S3.Model;
using FlagExport.S3.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.S3.Tests;

/// <summary>
/// StorageClass, server-side encryption and Tags, read back from the objects on the server, through PutObject and
/// multipart uploads. They expect the radosgw 16 of tests/s3-server/start.sh: its "testing" KMS keys and its COLD class.
/// </summary>
public sealed class S3ObjectSettingsTests
{
    /// <summary>A key of radosgw's "testing" KMS backend (start.sh: rgw crypt s3 kms encryption keys).</summary>
    private const string KmsKeyId = "testkey-1";

    /// <summary>About 5.5 MiB of JSON: two parts when the threshold is the 5 MiB minimum.</summary>
    private const int MultipartEvents = 30_000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExportAsync_SseKmsWithKeyId_ServerReportsKmsAndTheKeyAndDecrypts(bool multipart)
    {
        S3TestServer server = await RequireConfiguredServerAsync();
        using AmazonS3Client s3 = server.CreateClient();
        var logger = new FakeLogger();
        S3ExporterOptions options = Options(server, "sse-kms", multipart, o => { o.ServerSideEncryption = "aws:kms"; o.SseKmsKeyId = KmsKeyId; });
        FeatureEvent[] events = ObjectStoreEvents.Create(multipart ? MultipartEvents : 20, "kms");

        string key = await ExportOneAsync(s3, options, events, logger);

        GetObjectMetadataResponse head = await HeadAsync(s3, server.Bucket, key);
        Assert.Equal(ServerSideEncryptionMethod.AWSKMS, head.ServerSideEncryptionMethod);
        Assert.Equal(KmsKeyId, head.ServerSideEncryptionKeyManagementServiceKeyId);
        (byte[] body, GetObjectResponse get) = await S3Read.GetAsync(s3, server.Bucket, key);
        Assert.Equal(ServerSideEncryptionMethod.AWSKMS, get.ServerSideEncryptionMethod);
        Assert.Equal(KmsKeyId, get.ServerSideEncryptionKeyManagementServiceKeyId);
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), body); // decrypted on the way out
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Id.Name == "EncryptionNotConfirmed");
        await DeleteAsync(s3, options);
    }

    [Fact]
    public async Task ExportAsync_SseKmsWithAKeyTheKmsLacks_FailsNamingBucketKeyAndTheKmsKey()
    {
        S3TestServer server = await RequireConfiguredServerAsync();
        using AmazonS3Client s3 = server.CreateClient();
        var logger = new FakeLogger();
        S3ExporterOptions options = Options(server, "sse-kms-unknown", multipart: false, o => { o.ServerSideEncryption = "aws:kms"; o.SseKmsKeyId = "no-such-key"; });
        using AmazonS3Client writer = server.CreateClient(); // its connection may be left unusable: see S3TestServer.CreateClient
        using var exporter = new S3Exporter(options, writer, logger: logger);

        var error = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(3, "x"), TestContext.Current.CancellationToken));

        // radosgw answers InvalidAccessKeyId, which must not read as wrong credentials.
        string key = $"{options.S3Path}batch.json";
        Assert.Equal(
            $"Could not write 3 events to s3://{server.Bucket}/{key}: the KMS key could not be used: Failed to retrieve the actual key, kms-keyid: no-such-key (InvalidAccessKeyId, HTTP 403).",
            error.Message);
        Assert.Equal((server.Bucket, key), (error.Bucket, error.Key));
        Assert.Equal("UploadFailed", logger.LatestRecord.Id.Name);
        Assert.Empty(await S3Read.KeysAsync(s3, server.Bucket, options.S3Path!));
    }

    [Fact]
    public async Task ExportAsync_SseKmsWithoutKeyId_RadosgwRefusesSayingTheKeyIdIsRequired()
    {
        S3TestServer server = await RequireConfiguredServerAsync();
        using AmazonS3Client s3 = server.CreateClient();
        S3ExporterOptions options = Options(server, "sse-kms-nokey", multipart: false, o => o.ServerSideEncryption = "aws:kms");
        using AmazonS3Client writer = server.CreateClient(); // its connection may be left unusable: see S3TestServer.CreateClient
        using var exporter = new S3Exporter(options, writer);

        var error = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(ObjectStoreEvents.Create(3, "x"), TestContext.Current.CancellationToken));

        // Amazon S3 would use the account's default KMS key; radosgw 16 has none.
        Assert.Equal(
            $"Could not write 3 events to s3://{server.Bucket}/{options.S3Path}batch.json: Server Side Encryption with KMS managed key requires HTTP header x-amz-server-side-encryption-aws-kms-key-id (InvalidArgument, HTTP 400).",
            error.Message);
        Assert.Empty(await S3Read.KeysAsync(s3, server.Bucket, options.S3Path!));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExportAsync_Aes256OnRadosgw16_ObjectIsNotEncryptedAndTheExporterWarnsOnce(bool multipart)
    {
        S3TestServer server = await RequireConfiguredServerAsync();
        using AmazonS3Client s3 = server.CreateClient();
        var logger = new FakeLogger();
        S3ExporterOptions options = Options(server, "sse-s3", multipart, o => o.ServerSideEncryption = "AES256");
        FeatureEvent[] events = ObjectStoreEvents.Create(multipart ? MultipartEvents : 20, "aes");
        using var exporter = new S3Exporter(options, s3, logger: logger);

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);
        await exporter.ExportAsync(ObjectStoreEvents.Create(5, "aes-again"), TestContext.Current.CancellationToken);
        string key = $"{options.S3Path}batch.json";

        // radosgw 16 accepts x-amz-server-side-encryption: AES256 with 200 and stores the object as it came (SSE-S3
        // needs a newer radosgw), so neither its answer nor HeadObject names an encryption: the exporter says so.
        Assert.True(string.IsNullOrEmpty((await HeadAsync(s3, server.Bucket, key)).ServerSideEncryptionMethod?.Value));
        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "EncryptionNotConfirmed");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.StartsWith(
            $"s3://{server.Bucket}/{key} was written, but the server did not confirm the server-side encryption AES256 (it answered 'none'): the object may be stored unencrypted.",
            warning.Message,
            StringComparison.Ordinal);
        // A server that ignores the setting ignores it for every object: one warning per exporter, then Debug.
        Assert.Equal(LogLevel.Debug, Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "EncryptionNotConfirmedAgain").Level);
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), (await S3Read.GetAsync(s3, server.Bucket, key)).Body);
        await DeleteAsync(s3, options);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExportAsync_Tags_GetObjectTaggingReturnsThem(bool multipart)
    {
        S3TestServer server = await RequireConfiguredServerAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig());
        S3ExporterOptions options = Options(server, "tags", multipart, o => { o.Tags["team"] = "growth"; o.Tags["data"] = "flag events & more"; });

        string key = await ExportOneAsync(s3, options, ObjectStoreEvents.Create(multipart ? MultipartEvents : 20, "tags"));

        Assert.Equal([("data", "flag events & more"), ("team", "growth")], await TagsAsync(s3, server.Bucket, key));
        // PutObject carries its tags; radosgw 16 drops those of CreateMultipartUpload, so the exporter sets them after.
        Assert.Equal(multipart ? 1 : 0, s3.TaggingCalls);
        await DeleteAsync(s3, options);
    }

    [Fact]
    public async Task ExportAsync_TaggingFailsAfterTheMultipartUpload_ExportSucceedsOnceWithAWarning()
    {
        // The events are in the bucket: failing the export would report them as lost (and re-upload them where
        // conditional writes are off) for the sake of metadata.
        S3TestServer server = await RequireConfiguredServerAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig()) { FailPutTagging = { 1 } };
        var logger = new FakeLogger();
        S3ExporterOptions options = Options(server, "tags-fail", multipart: true, o => o.Tags["team"] = "growth");
        FeatureEvent[] events = ObjectStoreEvents.Create(MultipartEvents, "tags-fail");
        using var exporter = new S3Exporter(options, s3, logger: logger);

        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);

        string key = $"{options.S3Path}batch.json";
        Assert.Equal([key], await S3Read.KeysAsync(s3, server.Bucket, options.S3Path!));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), (await S3Read.GetAsync(s3, server.Bucket, key)).Body);
        Assert.Empty(await TagsAsync(s3, server.Bucket, key));
        Assert.Equal((1, 1), (s3.CompleteCalls, s3.TaggingCalls));
        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Name == "TaggingFailed");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.StartsWith($"s3://{server.Bucket}/{key} was written, but its tags could not be set after the multipart upload: ", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Id.Name == "UploadFailed");
        await DeleteAsync(s3, options);
    }

    [Fact]
    public async Task ExportAsync_StorageClassStandard_ListAndHeadReportStandard()
    {
        S3TestServer server = await RequireConfiguredServerAsync();
        using AmazonS3Client s3 = server.CreateClient();
        S3ExporterOptions options = Options(server, "class-standard", multipart: false, o => o.StorageClass = "STANDARD");

        string key = await ExportOneAsync(s3, options, ObjectStoreEvents.Create(20, "std"));

        Assert.Equal(S3StorageClass.Standard, Assert.Single(await S3Read.ListAsync(s3, server.Bucket, options.S3Path!)).StorageClass);
        Assert.Equal(S3StorageClass.Standard, (await HeadAsync(s3, server.Bucket, key)).StorageClass);
        await DeleteAsync(s3, options);
    }

    [Theory]
    [InlineData("COLD", false)]
    [InlineData("cold", false)] // class names are upper-cased, as S3's are
    [InlineData("COLD", true)]
    public async Task ExportAsync_StorageClassTheZoneDefines_ObjectIsInThatClass(string storageClass, bool multipart)
    {
        S3TestServer server = await RequireConfiguredServerAsync();
        using AmazonS3Client s3 = server.CreateClient();
        S3ExporterOptions options = Options(server, "class-cold", multipart, o => o.StorageClass = storageClass);
        FeatureEvent[] events = ObjectStoreEvents.Create(multipart ? MultipartEvents : 20, "cold");

        string key = await ExportOneAsync(s3, options, events);

        Assert.Equal("COLD", Assert.Single(await S3Read.ListAsync(s3, server.Bucket, options.S3Path!)).StorageClass?.Value);
        Assert.Equal("COLD", (await HeadAsync(s3, server.Bucket, key)).StorageClass?.Value);
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, events), (await S3Read.GetAsync(s3, server.Bucket, key)).Body);
        await DeleteAsync(s3, options);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pipeline_StorageClassTheZoneLacks_ExportFailsClearlyAndTheBatchIsKept(bool multipart)
    {
        S3TestServer server = await RequireConfiguredServerAsync();
        using AmazonS3Client s3 = server.CreateClient();
        var logger = new FakeLogger();
        S3ExporterOptions options = Options(server, "class-unknown", multipart, o => o.StorageClass = "GLACIER");
        int count = multipart ? MultipartEvents : 3;
        using AmazonS3Client writer = server.CreateClient(); // its connection may be left unusable: see S3TestServer.CreateClient
        using var exporter = new S3Exporter(options, writer, logger: logger);
        var pipelineOptions = new DataExporterOptions { FlushInterval = TimeSpan.FromHours(1), ShutdownTimeout = TimeSpan.FromSeconds(1) };
        await using (var pipeline = new DataExporter(exporter, pipelineOptions, logger: logger))
        {
            foreach (FeatureEvent e in ObjectStoreEvents.Create(count, "glacier"))
            {
                Assert.True(pipeline.Add(e));
            }

            _ = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.FlushAsync(TestContext.Current.CancellationToken));
        }

        IReadOnlyList<FakeLogRecord> records = logger.Collector.GetSnapshot();
        Assert.Contains(records, r => r.Id.Name == "UploadFailed" && r.Message ==
            $"Upload of {count} events to s3://{server.Bucket}/{options.S3Path}batch.json failed: the server refused an argument without saying which; radosgw does so when the bucket's placement has no storage class 'GLACIER' (InvalidArgument, HTTP 400).");
        Assert.Contains(records, r => r.Id.Name == "ExportFailed" && r.Message.Contains($"failed to write {count} events", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Id.Name == "EventsNotWritten" && r.Message.Contains($"stopped with {count} events not written", StringComparison.Ordinal));
        Assert.Empty(await S3Read.KeysAsync(s3, server.Bucket, options.S3Path!));
        ListMultipartUploadsResponse uploads = await s3.ListMultipartUploadsAsync(
            new ListMultipartUploadsRequest { BucketName = server.Bucket, Prefix = options.S3Path }, TestContext.Current.CancellationToken);
        Assert.Empty(uploads.MultipartUploads ?? []);
    }

    private static readonly Lazy<Task<string?>> s_configurationProblem = new(ProbeConfigurationAsync);

    /// <summary>
    /// The server, if it is configured as start.sh configures radosgw (KMS key <see cref="KmsKeyId"/>, class COLD);
    /// another S3 (S3_ENDPOINT at MinIO or AWS) skips these tests, saying why. Under CI it is always start.sh's server.
    /// </summary>
    private static async Task<S3TestServer> RequireConfiguredServerAsync()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        if (await s_configurationProblem.Value is { } problem)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"CI=true but the S3 server is not configured as tests/s3-server/start.sh does: {problem}");
            }

            Assert.Skip($"These tests need radosgw as tests/s3-server/start.sh configures it (testing KMS key '{KmsKeyId}', storage class COLD): {problem}");
        }

        return server;
    }

    private static async Task<string?> ProbeConfigurationAsync()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string key = S3TestServer.NewPrefix("settings-probe") + "probe";
        try
        {
            _ = await s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = server.Bucket, Key = key, ContentBody = "probe", StorageClass = new S3StorageClass("COLD"),
                ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS, ServerSideEncryptionKeyManagementServiceKeyId = KmsKeyId,
            }, CancellationToken.None);
            _ = await s3.DeleteObjectAsync(server.Bucket, key, CancellationToken.None);
            return null;
        }
        catch (AmazonS3Exception exception)
        {
            return $"{exception.ErrorCode} ({exception.Message})";
        }
    }

    /// <summary>Options writing <c>batch.json</c> under a fresh prefix; <paramref name="multipart"/> lowers the threshold to 5 MiB.</summary>
    private static S3ExporterOptions Options(S3TestServer server, string test, bool multipart, Action<S3ExporterOptions> configure)
    {
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = S3TestServer.NewPrefix(test), Filename = "batch.{{ .Format}}" };
        if (multipart)
        {
            options.MultipartThreshold = S3ExporterOptions.MinMultipartPartSize;
            options.MultipartPartSize = S3ExporterOptions.MinMultipartPartSize;
        }

        configure(options);
        return options;
    }

    /// <summary>Exports <paramref name="events"/> as one object and returns its key.</summary>
    private static async Task<string> ExportOneAsync(AmazonS3Client s3, S3ExporterOptions options, FeatureEvent[] events, ILogger? logger = null)
    {
        using var exporter = new S3Exporter(options, s3, logger: logger);
        await exporter.ExportAsync(events, TestContext.Current.CancellationToken);
        return Assert.Single(await S3Read.ListAsync(s3, options.Bucket, options.S3Path!)).Key;
    }

    /// <summary>Deletes what a test wrote, as the multipart tests do: the test server keeps everything in 1 GiB of RAM.</summary>
    private static async Task DeleteAsync(AmazonS3Client s3, S3ExporterOptions options)
    {
        foreach (string key in await S3Read.KeysAsync(s3, options.Bucket, options.S3Path!))
        {
            _ = await s3.DeleteObjectAsync(options.Bucket, key, TestContext.Current.CancellationToken);
        }
    }

    private static Task<GetObjectMetadataResponse> HeadAsync(AmazonS3Client s3, string bucket, string key) =>
        s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key }, TestContext.Current.CancellationToken);

    private static async Task<(string Key, string Value)[]> TagsAsync(AmazonS3Client s3, string bucket, string key)
    {
        GetObjectTaggingResponse response = await s3.GetObjectTaggingAsync(
            new GetObjectTaggingRequest { BucketName = bucket, Key = key }, TestContext.Current.CancellationToken);
        return [.. (response.Tagging ?? []).Select(t => (t.Key, t.Value)).Order()];
    }
}

using Amazon.S3;
using Microsoft.Extensions.Configuration;

namespace FlagExport.S3.Tests;

/// <summary>Option checks (no server needed) and the exporter's own client built from options and the AWS environment.</summary>
public sealed class S3ExporterOptionsTests
{
    [Theory]
    [InlineData("", "", "Bucket", "Bucket is required")]
    [InlineData("my/bucket", "", "Bucket", "Bucket 'my/bucket' is not a bucket name")]
    [InlineData("b", "Compression=brotli", "Compression", "Compression 'brotli' is not valid; valid values are none, gzip, zstd")]
    [InlineData("b", "Format=Parquet;Compression=gzip", "Compression", "Compression 'gzip' cannot be used with Format 'Parquet'")]
    [InlineData("b", "MultipartPartSize=1048576", "MultipartPartSize", "MultipartPartSize 1048576 is out of range")]
    [InlineData("b", "MultipartThreshold=1000", "MultipartThreshold", "MultipartThreshold 1000 is too small")]
    [InlineData("b", "MultipartConcurrency=0", "MultipartConcurrency", "MultipartConcurrency 0 is out of range")]
    [InlineData("b", "ServerSideEncryption=aes", "ServerSideEncryption", "ServerSideEncryption 'aes' is not valid; valid values are AES256, aws:kms")]
    [InlineData("b", "SseKmsKeyId=alias/k", "SseKmsKeyId", "SseKmsKeyId 'alias/k' requires ServerSideEncryption 'aws:kms'")]
    [InlineData("b", "StorageClass=STANDARD IA", "StorageClass", "StorageClass 'STANDARD IA' is not a storage class name")]
    [InlineData("b", "RequestChecksumCalculation=ALWAYS", "RequestChecksumCalculation", "RequestChecksumCalculation 'ALWAYS' is not valid; valid values are WHEN_SUPPORTED and WHEN_REQUIRED")]
    [InlineData("b", "ServiceUrl=ftp://host", "ServiceUrl", "ServiceUrl 'ftp://host/' must be an absolute http:// or https:// URL")]
    [InlineData("b", "S3Path={{ .Minute}}", "S3Path", "Invalid S3Path at line 1, column 4: unknown field")]
    [InlineData("b", "Format=xml", "Format", "Format 'xml' is not a valid format")]
    public void Constructor_InvalidOption_NamesTheOptionAndTheValue(string bucket, string settings, string option, string message)
    {
        S3ExporterOptions options = Bind(bucket, settings);

        var error = Assert.ThrowsAny<ArgumentException>(() => new S3Exporter(options, new AmazonS3Client(new Amazon.Runtime.AnonymousAWSCredentials(), new AmazonS3Config { ServiceURL = "http://127.0.0.1:9" })));

        Assert.Equal(option, error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_PathAndFilenameThatCanExceedTheKeyLimit_AreRefused()
    {
        // year=YYYY/ renders 10 bytes; a 1,000-byte prefix with it and any file name passes S3's 1,024.
        var options = new S3ExporterOptions { Bucket = "b", S3Path = new string('p', 1000) + "/year={{ .Year}}/", Filename = "{{ .UUID}}.{{ .Format}}" };

        var error = Assert.Throws<ArgumentException>(() => new S3Exporter(options, new AmazonS3Client(new Amazon.Runtime.AnonymousAWSCredentials(), new AmazonS3Config { ServiceURL = "http://127.0.0.1:9" })));

        Assert.Equal("Filename", error.ParamName);
        Assert.StartsWith($"S3Path '{options.S3Path}' and Filename '{options.Filename}' can give keys of up to 1061 bytes on this host", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ElevenTags_IsRefused()
    {
        var options = new S3ExporterOptions { Bucket = "b" };
        for (int i = 0; i < 11; i++)
        {
            options.Tags[$"k{i}"] = "v";
        }

        var error = Assert.Throws<ArgumentException>(() => new S3Exporter(options, new AmazonS3Client(new Amazon.Runtime.AnonymousAWSCredentials(), new AmazonS3Config { ServiceURL = "http://127.0.0.1:9" })));

        Assert.Equal("Tags has 11 entries; S3 allows at most 10 tags per object. (Parameter 'Tags')", error.Message);
    }

    [Fact]
    public void Bind_FromConfiguration_ReadsEveryOption()
    {
        S3ExporterOptions options = Bind("events", "S3Path=/go-feature-flag/variations/;Region=eu-west-1;ServiceUrl=http://127.0.0.1:7480;ForcePathStyle=true;"
            + "RequestChecksumCalculation=WHEN_REQUIRED;StorageClass=STANDARD_IA;ServerSideEncryption=aws:kms;SseKmsKeyId=alias/flags;"
            + "Tags:team=growth;Tags:env=prod;Compression=zstd;MultipartThreshold=33554432;MultipartPartSize=16777216;MultipartConcurrency=8;"
            + "VerifyBucketOnStart=true;ConditionalWrites=false;Format=CSV");

        Assert.Equal(
            ("events", "/go-feature-flag/variations/", "eu-west-1", new Uri("http://127.0.0.1:7480"), true, "WHEN_REQUIRED", "STANDARD_IA", "aws:kms", "alias/flags"),
            (options.Bucket, options.S3Path, options.Region, options.ServiceUrl, options.ForcePathStyle, options.RequestChecksumCalculation, options.StorageClass, options.ServerSideEncryption, options.SseKmsKeyId));
        Assert.Equal(new Dictionary<string, string> { ["team"] = "growth", ["env"] = "prod" }, options.Tags);
        Assert.Equal(("zstd", 32L << 20, 16L << 20, 8, true, false, "CSV"),
            (options.Compression, options.MultipartThreshold, options.MultipartPartSize, options.MultipartConcurrency, options.VerifyBucketOnStart, options.ConditionalWrites, options.Format));
    }

    [Fact]
    public async Task ExportAsync_WithoutAClient_BuildsOneFromOptionsAndTheAwsEnvironment()
    {
        // Keys and region come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION, as in every AWS tool.
        S3TestServer server = await S3TestServer.RequireAsync();
        string prefix = S3TestServer.NewPrefix("own-client");
        using var exporter = new S3Exporter(new S3ExporterOptions
        {
            Bucket = server.Bucket, S3Path = prefix, ServiceUrl = new Uri(server.Endpoint), RequestChecksumCalculation = "WHEN_REQUIRED",
            Tags = { ["team"] = "growth" }, StorageClass = "STANDARD",
        });

        await exporter.ExportAsync(ObjectStoreEvents.Create(2, "own"), TestContext.Current.CancellationToken);

        using AmazonS3Client s3 = server.CreateClient();
        string key = Assert.Single(await S3Read.KeysAsync(s3, server.Bucket, prefix));
        var tagging = await s3.GetObjectTaggingAsync(new Amazon.S3.Model.GetObjectTaggingRequest { BucketName = server.Bucket, Key = key }, TestContext.Current.CancellationToken);
        Assert.Equal([("team", "growth")], tagging.Tagging.Select(t => (t.Key, t.Value)));
    }

    [Fact]
    public async Task ExportAsync_SdkDefaultChecksums_StillUploadsToRadosgwBecauseBodiesAreNotChunked()
    {
        // WHEN_SUPPORTED makes the SDK add a CRC32; sent as a header (not an aws-chunked trailer) radosgw 16 accepts it,
        // for PutObject and for UploadPart.
        S3TestServer server = await S3TestServer.RequireAsync();
        string prefix = S3TestServer.NewPrefix("checksum-default");
        using var exporter = new S3Exporter(new S3ExporterOptions
        {
            Bucket = server.Bucket, S3Path = prefix, ServiceUrl = new Uri(server.Endpoint), RequestChecksumCalculation = "WHEN_SUPPORTED",
            MultipartThreshold = S3ExporterOptions.MinMultipartPartSize, MultipartPartSize = S3ExporterOptions.MinMultipartPartSize,
        });

        await exporter.ExportAsync(ObjectStoreEvents.Create(2, "crc"), TestContext.Current.CancellationToken);
        await exporter.ExportAsync(ObjectStoreEvents.Create(30_000, "crc-multipart"), TestContext.Current.CancellationToken); // 2 parts

        using AmazonS3Client s3 = server.CreateClient();
        Assert.Equal(2, (await S3Read.KeysAsync(s3, server.Bucket, prefix)).Length);
    }

    private static S3ExporterOptions Bind(string bucket, string settings)
    {
        var values = new Dictionary<string, string?> { ["Bucket"] = bucket };
        foreach (string pair in settings.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            values[pair[..equals]] = pair[(equals + 1)..];
        }

        var options = new S3ExporterOptions();
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().Bind(options);
        return options;
    }
}

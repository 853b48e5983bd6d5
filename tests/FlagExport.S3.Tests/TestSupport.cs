using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.S3.Tests;

/// <summary>Events with unique user keys, and the bytes the local file exporter writes for them.</summary>
internal static class TestEvents
{
    /// <summary>A fixed creation time: 2021-04-09T12:15:47Z.</summary>
    public const long CreationDate = 1617970547;

    public static FeatureEvent[] Create(int count, string tag, long creationDate = CreationDate) =>
    [
        .. Enumerable.Range(0, count).Select(i => new FeatureEvent
        {
            ContextKind = i % 3 == 0 ? "anonymousUser" : "user",
            UserKey = $"{tag}-{i:D7}",
            CreationDate = creationDate,
            Key = $"flag-{i % 17}",
            Variation = i % 2 == 0 ? "on" : "off",
            Value = i % 5 == 0 ? FlagValue.FromObject(new Dictionary<string, FlagValue> { ["n"] = i, ["s"] = "x<y" }) : (FlagValue)(i % 2 == 0),
            Default = i % 11 == 0,
            Version = "v3",
            Source = "SERVER",
        }),
    ];

    /// <summary>What <see cref="FileExporter"/> writes for <paramref name="events"/> with the same file options.</summary>
    public static async Task<byte[]> LocalBytesAsync(S3ExporterOptions s3Options, IReadOnlyList<ExportableEvent> events)
    {
        string folder = Path.Combine(Path.GetTempPath(), "flagexport-s3-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var local = new FileExporter(new FileExporterOptions
            {
                OutputDir = folder,
                Format = s3Options.Format,
                CsvTemplate = s3Options.CsvTemplate,
                ParquetCompressionCodec = s3Options.ParquetCompressionCodec,
                Filename = "local.{{ .Format}}",
            });
            await local.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);
            return await File.ReadAllBytesAsync(Directory.GetFiles(folder).Single(), TestContext.Current.CancellationToken);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>Reads back what the tests wrote, with a client of the test's own.</summary>
internal static class S3Read
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

using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FlagExport.AzureBlob.Tests.Support;
using FlagExport.S3;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.AzureBlob.Tests;

/// <summary>
/// A batch spanning several hours, with Hive partitions down to the hour in <c>Path</c>: one blob per hour on Azurite,
/// each listed and read back, under the S3 exporter's key and with its bytes, which are also the file exporter's bytes
/// for that hour's events.
/// </summary>
public sealed class AzuriteHourlyPartitionTests(AzuriteServer azurite)
{
    private const string HourlyPath = "flags/year={{ .Year}}/month={{ .Month}}/day={{ .Day}}/hour={{ .Hour}}/";
    private const string Filename = "batch-{{ .Timestamp}}.{{ .Format}}";

    private static readonly DateTimeOffset FlushTime = new(2021, 5, 1, 2, 0, 0, TimeSpan.Zero);

    /// <summary>22:xx and 23:xx of April 30th and 00:xx of May 1st: across a day and a month boundary.</summary>
    private static readonly DateTimeOffset[] Hours =
    [
        new(2021, 4, 30, 22, 5, 0, TimeSpan.Zero), new(2021, 4, 30, 23, 59, 59, TimeSpan.Zero), new(2021, 5, 1, 0, 0, 0, TimeSpan.Zero),
    ];

    [Theory]
    [InlineData("JSON", "json")]
    [InlineData("CSV", "csv")]
    [InlineData("Parquet", "parquet")]
    public async Task ExportAsync_BatchSpanningThreeHours_OneBlobPerHourWithTheS3ExportersKeysAndBytes(string format, string extension)
    {
        BlobContainerClient container = await (await azurite.RequireAsync()).NewContainerAsync();
        FeatureEvent[] events = Interleaved(format);
        var batch = new ExportBatch(events);
        var options = new AzureBlobExporterOptions { Container = container.Name, Path = HourlyPath, Format = format, Filename = Filename };
        using (var exporter = new AzureBlobExporter(options, container, timeProvider: new FakeTimeProvider(FlushTime)) { Writer = { Reservations = new ObjectNameReservations() } })
        {
            await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);
        }

        string[] expectedNames =
        [
            $"flags/year=2021/month=04/day=30/hour=22/batch-{FlushTime.ToUnixTimeSeconds()}.{extension}",
            $"flags/year=2021/month=04/day=30/hour=23/batch-{FlushTime.ToUnixTimeSeconds()}.{extension}",
            $"flags/year=2021/month=05/day=01/hour=00/batch-{FlushTime.ToUnixTimeSeconds()}.{extension}",
        ];
        Assert.Equal(expectedNames, await BlobRead.NamesAsync(container));
        Dictionary<string, byte[]> s3 = await S3ObjectsAsync(format, events);
        Assert.Equal(expectedNames, s3.Keys.Order(StringComparer.Ordinal));
        for (int hour = 0; hour < Hours.Length; hour++)
        {
            BlobDownloadResult blob = (await container.GetBlobClient(expectedNames[hour]).DownloadContentAsync(TestContext.Current.CancellationToken)).Value;
            byte[] body = blob.Content.ToArray();
            Assert.Equal(s3[expectedNames[hour]], body);
            long start = Hours[hour].ToUnixTimeSeconds() / 3600 * 3600;
            FeatureEvent[] inHour = [.. events.Where(e => e.CreationDate >= start && e.CreationDate < start + 3600)];
            Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, inHour), body);
            Assert.Equal(batch.Id, blob.Details.Metadata[SdkBlobContainer.WriteIdMetadataKey]);
        }

        Assert.Equal(expectedNames.Select(n => $"{container.Uri.AbsoluteUri}/{n}"), batch.Written.Select(w => w.Location).Order(StringComparer.Ordinal));
        Assert.Equal(events.Length, batch.Written.Sum(w => w.EventCount));
    }

    /// <summary>Events of the three hours in turn, a different count in each, so that a mixed-up partition shows.</summary>
    private static FeatureEvent[] Interleaved(string tag)
    {
        FeatureEvent[][] byHour = [.. Hours.Select((hour, i) => ObjectStoreEvents.Create(4 + (3 * i), $"{tag}-h{i}", hour.ToUnixTimeSeconds()))];
        return [.. Enumerable.Range(0, byHour.Max(h => h.Length)).SelectMany(i => byHour.Where(h => i < h.Length).Select(h => h[i]))];
    }

    /// <summary>Each object the S3 exporter writes for <paramref name="events"/> with the same path, name and clock, by key.</summary>
    private static async Task<Dictionary<string, byte[]>> S3ObjectsAsync(string format, FeatureEvent[] events)
    {
        string bucket = $"hourly-{Guid.NewGuid():N}";
        using var s3 = new InMemoryS3(bucket);
        using (var exporter = new S3Exporter(
            new S3ExporterOptions { Bucket = bucket, S3Path = HourlyPath, Format = format, Filename = Filename, VerifyBucketOnStart = false },
            s3,
            timeProvider: new FakeTimeProvider(FlushTime)))
        {
            await exporter.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);
        }

        return s3.Keys(bucket).ToDictionary(key => key, key => s3.TryGet(bucket, key, out byte[] body, out _) ? body : []);
    }
}

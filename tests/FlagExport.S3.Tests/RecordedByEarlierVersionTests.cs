using System.Security.Cryptography;
using Amazon.S3.Model;
using FlagExport.S3.Tests.Support;

namespace FlagExport.S3.Tests;

/// <summary>
/// A batch whose first attempt ran on the S3 exporter of the first release (its own layout, reservations and suffix
/// loop, before the shared <see cref="ObjectStoreWriter"/>), retried after an upgrade: what that version recorded
/// (a durable buffer's cursor keeps exactly these records) and wrote is the fixture, captured from that version.
/// </summary>
public sealed class RecordedByEarlierVersionTests
{
    private const string Bucket = "bucket";
    private const string BatchId = "compat-from-main";

    /// <summary>
    /// The records of a first attempt with CSV, gzip, <c>S3Path</c> <c>p/</c> and 64 KiB parts, where another writer
    /// held <c>p/batch.csv.gz</c> (part 0 went to suffix 1) and part 1's upload was written but its answer lost.
    /// </summary>
    private static readonly Dictionary<string, string> Recorded = new(StringComparer.Ordinal)
    {
        ["export.encoding"] = """{"fileName":"batch.csv","format":"CSV","csvTemplate":"{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};{{ .Variation}};{{ .Value}};{{ .Default}};{{ .Source}}\n","parquetCompressionCodec":"SNAPPY","parquetRowGroupSize":1000000,"maxBatchBytes":65536,"eventType":"Feature","exporter":"Gzip\np/"}""",
        ["export.part.0:p/"] = "0-10941",
        ["export.part.1:p/"] = "10941-21890",
        ["s3.part1.suffix:p/"] = "2",
        ["s3.suffix:p/"] = "1",
    };

    [Fact]
    public async Task ExportAsync_RetryOfABatchRecordedByTheFirstRelease_WritesTheRestUnderItsNamesOnceWithItsBytes()
    {
        FeatureEvent[] events = ObjectStoreEvents.Create(60_000, "compat");
        using var s3 = new InMemoryS3(Bucket);
        await PutAsync(s3, "p/batch.csv.gz", writeId: null); // the other writer's
        await PutAsync(s3, "p/batch-1.csv.gz", BatchId); // part 0, then part 1 whose answer was lost
        await PutAsync(s3, "p/batch-2.csv.gz", BatchId);
        int setupCalls = s3.Calls.Count;

        // Options changed since the first attempt: the recorded format, compression, path and parts still decide.
        var options = new S3ExporterOptions { Bucket = Bucket, S3Path = "q/", Filename = "other.{{ .Format}}", Format = "JSON", Compression = "none" };
        using (var exporter = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } })
        {
            var batch = new ExportBatch(events, new BatchState(BatchId, 0, events.Length, new Dictionary<string, string>(Recorded, StringComparer.Ordinal)), attempt: 2);
            await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);
        }

        // What the first release itself did on this retry: its calls, its keys, its bytes.
        Assert.Equal(
            [
                "PutObject p/batch-1.csv.gz", "HeadObject p/batch-1.csv.gz", "PutObject p/batch-2.csv.gz", "HeadObject p/batch-2.csv.gz",
                "PutObject p/batch-3.csv.gz", "PutObject p/batch-4.csv.gz", "PutObject p/batch-5.csv.gz", "PutObject p/batch-6.csv.gz",
            ],
            s3.Calls.Skip(setupCalls));
        Assert.Equal(
            ["p/batch-1.csv.gz", "p/batch-2.csv.gz", "p/batch-3.csv.gz", "p/batch-4.csv.gz", "p/batch-5.csv.gz", "p/batch-6.csv.gz", "p/batch.csv.gz"],
            s3.Keys(Bucket));
        Assert.Equal("96D2F514C87C67F76A1D4860C911FD6DC49D8DB912CD1BEE5EF8146D2D7789DF", Sha256(s3, "p/batch-3.csv.gz"));
        Assert.Equal("78BD1BFBD8383F191128560CC99ED4861859887044FB18522847210474F4D52D", Sha256(s3, "p/batch-4.csv.gz"));
        Assert.Equal("F2C548C567CBF62E6B66310455278484FF8CBBFDAD59EAC206BFF90544E9DAB4", Sha256(s3, "p/batch-5.csv.gz"));
        Assert.Equal("BFA4F3A6D8777D153A1D905F7D85356C414BE07C8DDC11B5082F7BCCF3E6CC76", Sha256(s3, "p/batch-6.csv.gz"));
    }

    private static async Task PutAsync(InMemoryS3 s3, string key, string? writeId)
    {
        var request = new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream([1, 2, 3]) };
        if (writeId is not null)
        {
            request.Metadata["flagexport-write-id"] = writeId;
        }

        _ = await s3.PutObjectAsync(request, TestContext.Current.CancellationToken);
    }

    private static string Sha256(InMemoryS3 s3, string key)
    {
        Assert.True(s3.TryGet(Bucket, key, out byte[] body, out _), key);
        return Convert.ToHexString(SHA256.HashData(body));
    }
}

using System.Security.Cryptography;
using FlagExport.AzureBlob.Tests.Support;

namespace FlagExport.AzureBlob.Tests;

/// <summary>
/// A batch whose first attempt ran on the Azure Blob exporter of the first release (its own layout, reservations and
/// suffix loop, before the shared <see cref="ObjectStoreWriter"/>), retried after an upgrade: what that version
/// recorded (a durable buffer's cursor keeps exactly these records) and wrote is the fixture, captured from that version.
/// </summary>
public sealed class RecordedByEarlierVersionTests
{
    private const string BatchId = "compat-from-main";

    /// <summary>
    /// The records of a first attempt with CSV, gzip, <c>Path</c> <c>p/</c> and 64 KiB parts, where another writer held
    /// <c>p/batch.csv.gz</c> (part 0 went to suffix 1) and part 1's blob was written but its answer lost.
    /// </summary>
    private static readonly Dictionary<string, string> Recorded = new(StringComparer.Ordinal)
    {
        ["azureblob.suffix:0:p/"] = "1",
        ["azureblob.suffix:1:p/"] = "2",
        ["export.encoding"] = """{"fileName":"batch.csv","format":"CSV","csvTemplate":"{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};{{ .Variation}};{{ .Value}};{{ .Default}};{{ .Source}}\n","parquetCompressionCodec":"SNAPPY","parquetRowGroupSize":1000000,"maxBatchBytes":65536,"eventType":"Feature","exporter":"Gzip\np/"}""",
        ["export.part.0:p/"] = "0-10941",
        ["export.part.1:p/"] = "10941-21890",
    };

    [Fact]
    public async Task ExportAsync_RetryOfABatchRecordedByTheFirstRelease_WritesTheRestUnderItsNamesOnceWithItsBytes()
    {
        FeatureEvent[] events = ObjectStoreEvents.Create(60_000, "compat");
        var container = new InMemoryBlobContainer();
        container.Put("p/batch.csv.gz", [1, 2, 3], "someone-else");
        container.Put("p/batch-1.csv.gz", [1, 2, 3], BatchId); // part 0, then part 1 whose answer was lost
        container.Put("p/batch-2.csv.gz", [1, 2, 3], BatchId);

        // Options changed since the first attempt: the recorded format, compression, path and parts still decide.
        var options = new AzureBlobExporterOptions { Container = "events", Path = "q/", Filename = "other.{{ .Format}}", Format = "JSON", Compression = "none" };
        using (AzureBlobExporter exporter = AzureBlobExporterTests.Create(options, container))
        {
            var batch = new ExportBatch(events, new BatchState(BatchId, 0, events.Length, new Dictionary<string, string>(Recorded, StringComparer.Ordinal)), attempt: 2);
            await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);
        }

        // What the first release itself did on this retry: its calls, its names, its bytes.
        Assert.Equal(
            [
                "Create p/batch-1.csv.gz", "GetProperties p/batch-1.csv.gz", "Create p/batch-2.csv.gz", "GetProperties p/batch-2.csv.gz",
                "Create p/batch-3.csv.gz", "Create p/batch-4.csv.gz", "Create p/batch-5.csv.gz", "Create p/batch-6.csv.gz",
            ],
            container.Calls);
        Assert.Equal(
            ["p/batch-1.csv.gz", "p/batch-2.csv.gz", "p/batch-3.csv.gz", "p/batch-4.csv.gz", "p/batch-5.csv.gz", "p/batch-6.csv.gz", "p/batch.csv.gz"],
            container.Names());
        Assert.Equal("96D2F514C87C67F76A1D4860C911FD6DC49D8DB912CD1BEE5EF8146D2D7789DF", Sha256(container, "p/batch-3.csv.gz"));
        Assert.Equal("78BD1BFBD8383F191128560CC99ED4861859887044FB18522847210474F4D52D", Sha256(container, "p/batch-4.csv.gz"));
        Assert.Equal("F2C548C567CBF62E6B66310455278484FF8CBBFDAD59EAC206BFF90544E9DAB4", Sha256(container, "p/batch-5.csv.gz"));
        Assert.Equal("BFA4F3A6D8777D153A1D905F7D85356C414BE07C8DDC11B5082F7BCCF3E6CC76", Sha256(container, "p/batch-6.csv.gz"));
    }

    private static string Sha256(InMemoryBlobContainer container, string name) => Convert.ToHexString(SHA256.HashData(container.Get(name).Content));
}

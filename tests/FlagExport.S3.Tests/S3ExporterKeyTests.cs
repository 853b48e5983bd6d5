using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using FlagExport.S3.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.S3.Tests;

/// <summary>Object keys: clean joins, no collisions, date partitions, retries that write nothing twice.</summary>
public sealed class S3ExporterKeyTests
{
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Fact]
    public async Task ExportAsync_SeedExampleConfiguration_WritesTheCleanKey()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string bucket = await S3TestServer.CreateBucketAsync(s3, "seed"); // the seed's fixed folder, in a bucket of its own
        var options = new S3ExporterOptions
        {
            Bucket = bucket,
            Format = "csv",
            CsvTemplate = "{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};{{ .Variation}};{{ .Value}};{{ .Default}};{{ .Source}}\n",
            S3Path = "/go-feature-flag/variations/",
            Filename = "flag-variation-{{ .Timestamp}}.{{ .Format}}",
        };
        using var exporter = new S3Exporter(options, s3, timeProvider: new FakeTimeProvider(FlushTime));

        await exporter.ExportAsync([new FeatureEvent { ContextKind = "anonymousUser", UserKey = "ABCD", CreationDate = 1617970547, Key = "random-key", Variation = "Default", Value = "YO" }], TestContext.Current.CancellationToken);

        try
        {
            Assert.Equal(["go-feature-flag/variations/flag-variation-1617970800.csv"], await S3Read.KeysAsync(s3, bucket, ""));
            (byte[] body, _) = await S3Read.GetAsync(s3, bucket, "go-feature-flag/variations/flag-variation-1617970800.csv");
            Assert.Equal("feature;anonymousUser;ABCD;1617970547;random-key;Default;YO;false;SERVER\n", Encoding.UTF8.GetString(body));
        }
        finally
        {
            await S3TestServer.DeleteBucketAsync(s3, bucket); // polite on a user's own S3
        }
    }

    [Fact]
    public async Task ExportAsync_TwoFlushesInOneSecond_WriteTwoObjects()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix("same-second");
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix }, s3, timeProvider: new FakeTimeProvider(FlushTime));

        await exporter.ExportAsync(ObjectStoreEvents.Create(3, "first"), TestContext.Current.CancellationToken);
        await exporter.ExportAsync(ObjectStoreEvents.Create(3, "second"), TestContext.Current.CancellationToken);

        string name = $"{prefix}flag-variation-{Environment.MachineName}-1617970800";
        Assert.Equal([$"{name}-1.json", $"{name}.json"], await S3Read.KeysAsync(s3, server.Bucket, prefix));
        Assert.Contains("first-0000000", Encoding.UTF8.GetString((await S3Read.GetAsync(s3, server.Bucket, $"{name}.json")).Body));
        Assert.Contains("second-0000000", Encoding.UTF8.GetString((await S3Read.GetAsync(s3, server.Bucket, $"{name}-1.json")).Body));
    }

    [Fact]
    public async Task ExportAsync_AnotherWriterTookTheName_ServerRefusesTheOverwriteAndTheNextNameIsUsed()
    {
        // Two exporters with their own name memories stand for two processes: only S3's If-None-Match stops the overwrite.
        S3TestServer server = await S3TestServer.RequireAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig());
        string prefix = S3TestServer.NewPrefix("other-writer");
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix, Filename = "batch.{{ .Format}}" };
        using var first = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        using var second = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };

        await first.ExportAsync(ObjectStoreEvents.Create(2, "first"), TestContext.Current.CancellationToken);
        await second.ExportAsync(ObjectStoreEvents.Create(2, "second"), TestContext.Current.CancellationToken);
        await second.ExportAsync(ObjectStoreEvents.Create(2, "third"), TestContext.Current.CancellationToken);

        Assert.Equal([$"{prefix}batch-1.json", $"{prefix}batch-2.json", $"{prefix}batch.json"], await S3Read.KeysAsync(s3, server.Bucket, prefix));
        Assert.Contains("first-", Encoding.UTF8.GetString((await S3Read.GetAsync(s3, server.Bucket, $"{prefix}batch.json")).Body));
        Assert.Contains("second-", Encoding.UTF8.GetString((await S3Read.GetAsync(s3, server.Bucket, $"{prefix}batch-1.json")).Body));
        Assert.Contains("third-", Encoding.UTF8.GetString((await S3Read.GetAsync(s3, server.Bucket, $"{prefix}batch-2.json")).Body));
        Assert.Equal(4, s3.PutCalls); // first; second refused (412) then -1; third straight to -2, remembered
    }

    [Fact]
    public async Task ExportAsync_TwoExportersOfOneProcessSameName_PickDifferentNamesWithoutAsking()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig());
        string prefix = S3TestServer.NewPrefix("same-process");
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix, Filename = "batch.{{ .Format}}" };
        var names = new ObjectNameReservations();
        using var feature = new S3Exporter(options, s3) { Writer = { Reservations = names } };
        using var other = new S3Exporter(options, s3) { Writer = { Reservations = names } };

        await feature.ExportAsync(ObjectStoreEvents.Create(2, "a"), TestContext.Current.CancellationToken);
        await other.ExportAsync(ObjectStoreEvents.Create(2, "b"), TestContext.Current.CancellationToken);

        Assert.Equal([$"{prefix}batch-1.json", $"{prefix}batch.json"], await S3Read.KeysAsync(s3, server.Bucket, prefix));
        Assert.Equal(2, s3.PutCalls);
    }

    [Fact]
    public async Task ExportAsync_BatchSpanningTwoDays_WritesOneObjectPerDatePartition()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix("partitions");
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix + "events/dt={{ .Year}}-{{ .Month}}-{{ .Day}}/", Filename = "batch.{{ .Format}}" };
        long lastHourOfDay1 = new DateTimeOffset(2021, 4, 9, 23, 59, 59, TimeSpan.Zero).ToUnixTimeSeconds();
        FeatureEvent[] day1a = ObjectStoreEvents.Create(3, "day1a", lastHourOfDay1 - 3600);
        FeatureEvent[] day2 = ObjectStoreEvents.Create(4, "day2", lastHourOfDay1 + 1);
        FeatureEvent[] day1b = ObjectStoreEvents.Create(2, "day1b", lastHourOfDay1);
        using var exporter = new S3Exporter(options, s3);

        await exporter.ExportAsync([.. day1a, .. day2, .. day1b], TestContext.Current.CancellationToken);

        Assert.Equal(
            [$"{prefix}events/dt=2021-04-09/batch.json", $"{prefix}events/dt=2021-04-10/batch.json"],
            await S3Read.KeysAsync(s3, server.Bucket, prefix));
        (byte[] day1Body, _) = await S3Read.GetAsync(s3, server.Bucket, $"{prefix}events/dt=2021-04-09/batch.json");
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, [.. day1a, .. day1b]), day1Body); // order kept within a partition
        (byte[] day2Body, _) = await S3Read.GetAsync(s3, server.Bucket, $"{prefix}events/dt=2021-04-10/batch.json");
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(options, day2), day2Body);
    }

    [Fact]
    public async Task ExportAsync_RetryAfterTheAnswerWasLost_DoesNotWriteTheObjectTwice()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig()) { LosePutAnswer = { 1 } };
        string prefix = S3TestServer.NewPrefix("lost-answer");
        using var exporter = new S3Exporter(new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix }, s3);
        FeatureEvent[] events = ObjectStoreEvents.Create(5, "lost");
        var batch = new ExportBatch(events);

        var failure = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        Assert.Contains("network error", failure.Message, StringComparison.Ordinal);
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken); // the pipeline's retry: same batch

        S3Object written = Assert.Single(await S3Read.ListAsync(s3, server.Bucket, prefix));
        Assert.Equal(await ObjectStoreEvents.LocalBytesAsync(new S3ExporterOptions(), events), (await S3Read.GetAsync(s3, server.Bucket, written.Key)).Body);
    }

    [Fact]
    public async Task ExportAsync_RetryByANewExporterAfterTheAnswerWasLost_FindsTheObjectByItsRecordedKeyAndId()
    {
        // A restart: the retry comes from another exporter instance with no memory of names, only the batch's records.
        S3TestServer server = await S3TestServer.RequireAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig()) { LosePutAnswer = { 1 } };
        string prefix = S3TestServer.NewPrefix("restart");
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix, Filename = "b-{{ .UUID}}.{{ .Format}}" };
        var batch = new ExportBatch(ObjectStoreEvents.Create(4, "restart"));
        using (var before = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } })
        {
            _ = await Assert.ThrowsAsync<S3ExportException>(() => before.ExportAsync(batch, TestContext.Current.CancellationToken));
        }

        using var after = new S3Exporter(options, s3) { Writer = { Reservations = new ObjectNameReservations() } };
        await after.ExportAsync(batch, TestContext.Current.CancellationToken);

        S3Object written = Assert.Single(await S3Read.ListAsync(s3, server.Bucket, prefix));
        Assert.Contains($"\"fileName\":\"{written.Key[prefix.Length..]}\"", batch.GetRecorded("export.encoding"), StringComparison.Ordinal); // the first attempt's name
        Assert.Equal(2, s3.PutCalls); // the lost one, then the conditional retry refused as already there
    }

    [Fact]
    public async Task ExportAsync_RetryAfterOnePartitionFailed_WritesOnlyTheMissingPartition()
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using var s3 = new FaultyS3Client(server.ClientConfig()) { FailPut = { 2 } };
        string prefix = S3TestServer.NewPrefix("partial");
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix + "{{ .Hour}}/", Filename = "b-{{ .UUID}}.{{ .Format}}" };
        using var exporter = new S3Exporter(options, s3);
        var batch = new ExportBatch([.. ObjectStoreEvents.Create(3, "h12"), .. ObjectStoreEvents.Create(3, "h13", ObjectStoreEvents.CreationDate + 3600)]);

        _ = await Assert.ThrowsAsync<S3ExportException>(() => exporter.ExportAsync(batch, TestContext.Current.CancellationToken));
        await exporter.ExportAsync(batch, TestContext.Current.CancellationToken);

        string[] keys = await S3Read.KeysAsync(s3, server.Bucket, prefix);
        Assert.Equal(2, keys.Length);
        Assert.Equal([$"{prefix}12/", $"{prefix}13/"], keys.Select(k => k[..(k.LastIndexOf('/') + 1)]));
        Assert.Equal(3, s3.PutCalls); // 12 written, 13 failed, then only 13 again
    }
}

using System.Net;
using FlagExport.S3.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.S3.Tests;

/// <summary>
/// A batch cut into objects, some uploaded, then S3 fails (or its answer is lost); the process restarts with other
/// options (<c>MaxBatchBytes</c>, format, compression, <c>S3Path</c>, file name): the retry writes each event exactly
/// once and replaces no object (in-memory S3).
/// </summary>
public sealed class S3OptionChangeTests
{
    private const string Bucket = "in-memory-bucket";
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Theory]
    [InlineData("CSV", "zstd", 16 * 1024, false)]
    [InlineData("Parquet", "none", 32 * 1024, true)]
    [InlineData("JSON", "none", 2 * 1024, true)]
    public async Task Retry_AfterAFailedUploadWithOtherOptions_WritesEachEventOnce(string format, string compression, int maxBatchBytes, bool answerLost)
    {
        using var s3 = new InMemoryS3(Bucket);
        const int FailedPut = 6;
        if (answerLost)
        {
            _ = s3.CommitThenFail("PutObject", FailedPut, InMemoryS3.NetworkError());
        }
        else
        {
            _ = s3.Fail("PutObject", FailedPut, InMemoryS3.Status(HttpStatusCode.ServiceUnavailable, "SlowDown"));
        }

        var clock = new FakeTimeProvider(FlushTime);
        FeatureEvent[] events = HourlyEvents(3_000);
        var records = new RestartableRecords("option-change", events.Length);
        var first = new S3ExporterOptions
        {
            Bucket = Bucket, S3Path = "p/{{ .Year}}/{{ .Month}}/{{ .Day}}/{{ .Hour}}/", Filename = "batch-{{ .Timestamp}}.{{ .Format}}",
            Compression = "gzip", MaxBatchBytes = 4 * 1024,
        };
        using (var before = new S3Exporter(first, s3, timeProvider: clock) { Writer = { Reservations = new ObjectNameReservations() } })
        {
            _ = await Assert.ThrowsAsync<S3ExportException>(() => before.ExportAsync(new ExportBatch(events, records.State, 1), TestContext.Current.CancellationToken));
        }

        Assert.InRange(s3.Keys(Bucket).Length, FailedPut - 1, FailedPut);

        // A restart from the cursor, with other options and another process's memory of key names.
        records.Restart();
        clock.Advance(TimeSpan.FromMinutes(5));
        var changed = new S3ExporterOptions
        {
            Bucket = Bucket, S3Path = "q/", Filename = "other-{{ .UUID}}.{{ .Format}}",
            Format = format, Compression = compression, MaxBatchBytes = maxBatchBytes, ParquetRowGroupSize = 50,
        };
        using (var after = new S3Exporter(changed, s3, timeProvider: clock) { Writer = { Reservations = new ObjectNameReservations() } })
        {
            await after.ExportAsync(new ExportBatch(events, records.State, 2), TestContext.Current.CancellationToken);
        }

        List<string> written = ObjectEvents.UserKeys(s3, Bucket);
        Assert.Equal(events.Length, written.Count);
        Assert.Equal(events.Select(e => e.UserKey).Order(StringComparer.Ordinal), written.Order(StringComparer.Ordinal));
        Assert.All(s3.Keys(Bucket), key => Assert.Matches(@"^p/2021/04/09/\d\d/batch-1617970800(-\d+)?\.json\.gz$", key)); // the first attempt's layout
    }

    /// <summary>Events with unique user keys created over about four hours, so a dated path splits them.</summary>
    private static FeatureEvent[] HourlyEvents(int count) =>
    [
        .. Enumerable.Range(0, count).Select(i => ObjectStoreEvents.Create(1, $"user-{i:D5}", ObjectStoreEvents.CreationDate + (i * 5L))[0]),
    ];
}

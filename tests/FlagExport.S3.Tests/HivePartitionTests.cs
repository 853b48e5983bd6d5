using System.Globalization;
using Amazon.S3;
using FlagExport.S3.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.S3.Tests;

/// <summary>
/// The <c>S3Path</c> date fields give the Hive layouts query engines read: objects exported to the real server,
/// downloaded with their keys as paths, and read back by DuckDB with <c>hive_partitioning</c>, partition by partition.
/// </summary>
/// <remarks>
/// DuckDB (1.5) infers a partition column's type from the values present (<c>hive_types_autocast</c>): <c>2021</c> is
/// BIGINT, but a zero-padded <c>04</c> stays VARCHAR (a cast would lose the zero), so <c>month</c> is VARCHAR in April
/// and BIGINT in December; <c>dt=2021-04-09</c> is a DATE. The tests pin each case, and <c>hive_types</c> fixing the types.
/// </remarks>
public sealed class HivePartitionTests
{
    private const string YearMonthDay = "year={{ .Year}}/month={{ .Month}}/day={{ .Day}}/";

    private static readonly DateTimeOffset FlushTime = new(2021, 4, 11, 7, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Parquet_YearMonthDayLayout_DuckDbReadsEveryPartitionWithItsRowCount()
    {
        (FeatureEvent[] first, FeatureEvent[] second) = ThreeDays();
        using TemporaryFolder download = await ExportAndDownloadAsync("Parquet", YearMonthDay, "", first, second);
        string folder = download.Path;

        DuckDbResult result = DuckDbQuery.Run(
            $"SELECT year, month, day, count(*) FROM read_parquet({DuckDbQuery.Literal(folder + "/**/*.parquet")}, hive_partitioning = true) GROUP BY ALL ORDER BY ALL");

        Assert.Equal(["BigInt", "Varchar", "Varchar", "BigInt"], result.Types); // "04" and "09" keep their zero as text
        Assert.Equal(
            [.. CountsByDay([.. first, .. second]).Select(p => (object?[])[(long)p.Day.Year, p.Day.ToString("MM", CultureInfo.InvariantCulture), p.Day.ToString("dd", CultureInfo.InvariantCulture), p.Count])],
            result.Rows);
    }

    [Fact]
    public async Task Parquet_YearMonthDayLayoutWithHiveTypes_PartitionColumnsAreIntegers()
    {
        (FeatureEvent[] first, FeatureEvent[] second) = ThreeDays();
        using TemporaryFolder download = await ExportAndDownloadAsync("Parquet", YearMonthDay, "", first, second);
        string folder = download.Path;

        DuckDbResult result = DuckDbQuery.Run(
            $"SELECT year, month, day, count(*) FROM read_parquet({DuckDbQuery.Literal(folder + "/**/*.parquet")}, hive_partitioning = true, "
            + "hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER}) GROUP BY ALL ORDER BY ALL");

        Assert.Equal(["Integer", "Integer", "Integer", "BigInt"], result.Types);
        Assert.Equal(
            [.. CountsByDay([.. first, .. second]).Select(p => (object?[])[p.Day.Year, p.Day.Month, p.Day.Day, p.Count])],
            result.Rows);
    }

    [Fact]
    public async Task Parquet_ZeroPaddedPartitionsWithoutHiveTypes_ARangeFilterIsABinderError()
    {
        (FeatureEvent[] first, FeatureEvent[] second) = ThreeDays();
        using TemporaryFolder download = await ExportAndDownloadAsync("Parquet", YearMonthDay, "", first, second);
        string files = DuckDbQuery.Literal(download.Path + "/**/*.parquet");

        var failure = Assert.Throws<DuckDB.NET.Data.DuckDBException>(
            () => DuckDbQuery.Run($"SELECT count(*) FROM read_parquet({files}, hive_partitioning = true) WHERE day >= 10"));
        Assert.Contains("Cannot compare values of type VARCHAR and type INTEGER_LITERAL", failure.Message, StringComparison.Ordinal);
        Assert.Empty(DuckDbQuery.Run($"SELECT day FROM read_parquet({files}, hive_partitioning = true) WHERE month = '4'").Rows);
    }

    [Fact]
    public async Task Parquet_NoZeroPaddedValue_DuckDbInfersBigintMonthAndDay()
    {
        long november30 = new DateTimeOffset(2021, 11, 30, 23, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        FeatureEvent[] events = [.. ObjectStoreEvents.Create(3, "nov", november30), .. ObjectStoreEvents.Create(5, "dec", november30 + (31 * 86400))];
        using TemporaryFolder download = await ExportAndDownloadAsync("Parquet", YearMonthDay, "", events);
        string folder = download.Path;

        DuckDbResult result = DuckDbQuery.Run(
            $"SELECT year, month, day, count(*) FROM read_parquet({DuckDbQuery.Literal(folder + "/**/*.parquet")}, hive_partitioning = true) GROUP BY ALL ORDER BY ALL");

        Assert.Equal(["BigInt", "BigInt", "BigInt", "BigInt"], result.Types);
        Assert.Equal(
            [.. CountsByDay(events).Select(p => (object?[])[(long)p.Day.Year, (long)p.Day.Month, (long)p.Day.Day, p.Count])],
            result.Rows);
    }

    [Fact]
    public async Task Parquet_DtLayout_DuckDbReadsDtAsADate()
    {
        (FeatureEvent[] first, FeatureEvent[] second) = ThreeDays();
        using TemporaryFolder download = await ExportAndDownloadAsync("Parquet", "dt={{ .Year}}-{{ .Month}}-{{ .Day}}/", "", first, second);
        string folder = download.Path;

        DuckDbResult result = DuckDbQuery.Run(
            $"SELECT dt, count(*) FROM read_parquet({DuckDbQuery.Literal(folder + "/**/*.parquet")}, hive_partitioning = true) GROUP BY ALL ORDER BY ALL");

        Assert.Equal(["Date", "BigInt"], result.Types);
        Assert.Equal([.. CountsByDay([.. first, .. second]).Select(p => (object?[])[p.Day, p.Count])], result.Rows);
    }

    [Fact]
    public async Task GzipJsonLines_YearMonthDayHourLayout_DuckDbReadsEveryHourWithItsRowCount()
    {
        (FeatureEvent[] first, FeatureEvent[] second) = ThreeDays();
        using TemporaryFolder download = await ExportAndDownloadAsync("JSON", YearMonthDay + "hour={{ .Hour}}/", "gzip", first, second);
        string folder = download.Path;

        DuckDbResult result = DuckDbQuery.Run(
            $"SELECT year, month, day, hour, count(*) FROM read_json({DuckDbQuery.Literal(folder + "/**/*.json.gz")}, format = 'newline_delimited', "
            + "hive_partitioning = true, hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER, 'hour': INTEGER}) GROUP BY ALL ORDER BY ALL");

        Assert.Equal(
            [.. CountsByHour([.. first, .. second]).Select(p => (object?[])[p.Hour.Year, p.Hour.Month, p.Hour.Day, p.Hour.Hour, p.Count])],
            result.Rows);
    }

    /// <summary>
    /// Two batches over three days and five hours, with a different count in each: the first batch spans the first two
    /// days, the second the last two, so one partition holds objects of both batches.
    /// </summary>
    private static (FeatureEvent[] First, FeatureEvent[] Second) ThreeDays()
    {
        static long At(int day, int hour, int minute) => new DateTimeOffset(2021, 4, day, hour, minute, 0, TimeSpan.Zero).ToUnixTimeSeconds();

        FeatureEvent[] first =
        [
            .. ObjectStoreEvents.Create(3, "d9h22", At(9, 22, 10)),
            .. ObjectStoreEvents.Create(4, "d10h0", At(10, 0, 0)),
            .. ObjectStoreEvents.Create(2, "d9h23", At(9, 23, 59)),
        ];
        FeatureEvent[] second =
        [
            .. ObjectStoreEvents.Create(1, "d10h13", At(10, 13, 30)),
            .. ObjectStoreEvents.Create(6, "d11h6", At(11, 6, 0)),
        ];
        return (first, second);
    }

    private static IEnumerable<(DateOnly Day, long Count)> CountsByDay(IEnumerable<FeatureEvent> events) =>
        events.GroupBy(e => DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeSeconds(e.CreationDate).UtcDateTime))
            .Select(g => (g.Key, (long)g.Count()))
            .OrderBy(p => p.Key);

    private static IEnumerable<(DateTime Hour, long Count)> CountsByHour(IEnumerable<FeatureEvent> events) =>
        events.GroupBy(e => DateTimeOffset.FromUnixTimeSeconds(e.CreationDate - (e.CreationDate % 3600)).UtcDateTime)
            .Select(g => (g.Key, (long)g.Count()))
            .OrderBy(p => p.Key);

    /// <summary>Exports each batch (one flush a minute) under a new prefix, then downloads that prefix into a new temporary folder.</summary>
    private static async Task<TemporaryFolder> ExportAndDownloadAsync(string format, string layout, string compression, params FeatureEvent[][] batches)
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix("hive");
        var clock = new FakeTimeProvider(FlushTime);
        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix + layout, Format = format, Compression = compression.Length == 0 ? "none" : compression };
        using (var exporter = new S3Exporter(options, s3, timeProvider: clock))
        {
            await exporter.ExportEachAsync(clock, batches);
        }

        return await MinuteFlushes.DownloadAsync(s3, server.Bucket, prefix);
    }
}

using System.Text.RegularExpressions;
using Amazon.S3;
using FlagExport.S3.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.S3.Tests;

/// <summary>
/// The query guide (docs/querying.md), run: its exporter configuration writes events to the real server, its
/// <c>aws s3 sync</c> is played by a download, and each of its DuckDB queries must return what the exported events
/// give when counted here. Its Athena DDL cannot run here; its shape is checked against the Parquet files and the
/// configured <c>S3Path</c>.
/// </summary>
public sealed partial class QueryGuideTests
{
    /// <summary>The queries this class checks; a new query in the guide fails <see cref="DuckDbBlocks_EachIsCheckedByATest"/> until it has a test.</summary>
    private static readonly string[] CheckedQueries = ["evaluations-per-day", "evaluations-per-hour", "tracking-per-day"];

    /// <summary>A session time zone other than UTC, so that a query that depends on it gives other days or hours.</summary>
    private const string SessionTimeZone = "SET TimeZone = 'America/New_York'";

    private static readonly DateTimeOffset FlushTime = new(2021, 4, 11, 7, 0, 0, TimeSpan.Zero);

    private static readonly QueryGuide Guide = QueryGuide.Load();

    [Fact]
    public void DuckDbBlocks_EachIsCheckedByATest() => Assert.Equal(CheckedQueries, Guide.DuckDbQueryNames);

    [Fact]
    public async Task DuckDbEvaluationsPerDay_CountsTheExportedEventsPerDayFlagAndVariation()
    {
        FeatureEvent[][] batches = FeatureBatches();
        using TemporaryFolder download = await ExportAndSyncAsync("features", batches);
        string folder = download.Path;

        DuckDbResult result = DuckDbQuery.Run(Query("evaluations-per-day", folder), SessionTimeZone);

        Assert.Equal(["day", "flag", "variation", "evaluations"], result.Columns);
        Assert.Equal(
            [.. batches.SelectMany(b => b)
                .GroupBy(e => (Day: DateOnly.FromDateTime(Utc(e.CreationDate)), e.Key, e.Variation))
                .OrderBy(g => g.Key.Day).ThenBy(g => g.Key.Key, StringComparer.Ordinal).ThenBy(g => g.Key.Variation, StringComparer.Ordinal)
                .Select(g => (object?[])[g.Key.Day, g.Key.Key, g.Key.Variation, (long)g.Count()])],
            result.Rows);
    }

    [Fact]
    public async Task DuckDbEvaluationsPerHour_CountsEvaluationsAndUsersPerUtcHourFromTheFilteredPartitions()
    {
        FeatureEvent[][] batches = FeatureBatches();
        using TemporaryFolder download = await ExportAndSyncAsync("features", batches);
        string folder = download.Path;

        DuckDbResult result = DuckDbQuery.Run(Query("evaluations-per-hour", folder), SessionTimeZone);

        // The guide's WHERE: year = 2021 AND month = 4 AND day >= 10.
        Assert.Equal(["hour", "flag", "evaluations", "users"], result.Columns);
        Assert.Equal(
            [.. batches.SelectMany(b => b)
                .Where(e => Utc(e.CreationDate) is { Year: 2021, Month: 4, Day: >= 10 })
                .GroupBy(e => (Hour: Utc(e.CreationDate - (e.CreationDate % 3600)), e.Key))
                .OrderBy(g => g.Key.Hour).ThenBy(g => g.Key.Key, StringComparer.Ordinal)
                .Select(g => (object?[])[g.Key.Hour, g.Key.Key, (long)g.Count(), (long)g.Select(e => e.UserKey).Distinct().Count()])],
            result.Rows);
        Assert.Contains(batches.SelectMany(b => b), e => Utc(e.CreationDate).Day < 10); // the filter has something to leave out
    }

    [Fact]
    public async Task DuckDbTrackingPerDay_CountsTheExportedTrackingEventsAndSumsTheirAmounts()
    {
        TrackingEvent[][] batches = TrackingBatches();
        using TemporaryFolder download = await ExportAndSyncAsync("tracking", batches);
        string folder = download.Path;

        DuckDbResult result = DuckDbQuery.Run(Query("tracking-per-day", folder), SessionTimeZone);

        Assert.Equal(["day", "event", "events", "users", "amount"], result.Columns);
        Assert.Equal(
            [.. batches.SelectMany(b => b)
                .GroupBy(e => (Day: DateOnly.FromDateTime(Utc(e.CreationDate)), e.Key))
                .OrderBy(g => g.Key.Day).ThenBy(g => g.Key.Key, StringComparer.Ordinal)
                .Select(g => (object?[])[
                    g.Key.Day, g.Key.Key, (long)g.Count(), (long)g.Select(e => e.UserKey).Distinct().Count(),
                    g.Any(e => e.TrackingEventDetails is not null) ? g.Sum(e => e.TrackingEventDetails?["amount"].AsDouble() ?? 0) : null])],
            result.Rows);
    }

    [Fact]
    public async Task AthenaCreateTable_HasEveryColumnOfTheExportedParquetWithTheMatchingAthenaType()
    {
        // The schema of a file the exporter writes, as DuckDB reads it; the S3 objects hold the file exporter's bytes.
        using var folder = new TemporaryFolder();
        var exporter = new FileExporter(new FileExporterOptions { OutputDir = folder.Path, Format = Guide.ExporterOption("features", "Format") ?? "JSON" });
        await exporter.ExportAsync(new ExportBatch(FeatureBatches()[0]), TestContext.Current.CancellationToken);
        string file = Assert.Single(Directory.GetFiles(folder.Path));
        DuckDbResult schema = DuckDbQuery.Run($"DESCRIBE SELECT * FROM read_parquet({DuckDbQuery.Literal(file)})");

        Assert.Equal(
            [.. schema.Rows.Select(r => (Name: (string)r[0]!, Type: AthenaType((string)r[1]!)))],
            AthenaDdl.Parse(Guide.Block("sql athena:create-table")).Columns);
    }

    [Fact]
    public void AthenaCreateTable_PartitionsProjectionAndLocationFollowTheFeaturesS3Path()
    {
        AthenaDdl ddl = AthenaDdl.Parse(Guide.Block("sql athena:create-table"));
        string s3Path = Guide.ExporterOption("features", "S3Path")!;
        (string Key, string Field)[] partitions = [.. HivePartition().Matches(s3Path).Select(m => (m.Groups["key"].Value, m.Groups["field"].Value))];

        Assert.Equal(["year", "month", "day"], partitions.Select(p => p.Key)); // the layout the section documents
        Assert.Equal([.. partitions.Select(p => (p.Key, "int"))], ddl.Partitions);
        Assert.Equal(Guide.ExporterOption("features", "Format"), ddl.StoredAs, StringComparer.OrdinalIgnoreCase);
        Assert.Equal("true", ddl.Properties["projection.enabled"]);
        foreach ((string key, string field) in partitions)
        {
            Assert.Equal("integer", ddl.Properties[$"projection.{key}.type"]);
            int[] range = [.. ddl.Properties[$"projection.{key}.range"].Split(',').Select(int.Parse)];
            (int min, int max, string? digits) = field switch
            {
                // The exporter writes the year with four digits and zero-pads the others to two (UTC).
                "Year" => (1, 9999, null),
                "Month" => (1, 12, "2"),
                "Day" => (1, 31, "2"),
                "Hour" => (0, 23, "2"),
                _ => throw new InvalidOperationException($"S3Path field '{field}' is not a date field"),
            };
            Assert.True(range.Length == 2 && min <= range[0] && range[0] <= range[1] && range[1] <= max, $"projection.{key}.range '{ddl.Properties[$"projection.{key}.range"]}' is not within {min},{max}");
            Assert.Equal(digits, ddl.Properties.GetValueOrDefault($"projection.{key}.digits"));
        }

        string template = "s3://" + Guide.ExporterOption("features", "Bucket") + "/"
            + TemplateField().Replace(s3Path, m => "${" + partitions.Single(p => p.Field == m.Groups["field"].Value).Key + "}");
        Assert.Equal(template, ddl.Properties["storage.location.template"]);
        Assert.Equal(template[..(template.IndexOf("${", StringComparison.Ordinal) - partitions[0].Key.Length - 1)], ddl.Location);
    }

    [Fact]
    public void AthenaQuery_ReadsTheTableOfTheDdlFilteringOnItsPartitionsAndConvertsCreationDate()
    {
        AthenaDdl ddl = AthenaDdl.Parse(Guide.Block("sql athena:create-table"));
        string query = Guide.Block("sql athena:evaluations-per-day");

        Assert.Matches($@"\bFROM {ddl.Table}\b", query);
        Assert.Contains("from_unixtime(creationDate)", query, StringComparison.Ordinal); // Unix seconds, not milliseconds
        Match where = Regex.Match(query, @"\bWHERE (?<condition>.*?)\bGROUP BY", RegexOptions.Singleline);
        Assert.True(where.Success, "the Athena query has no WHERE ... GROUP BY");
        Assert.All(
            Regex.Matches(where.Groups["condition"].Value, @"(?<column>\w+)\s*=").Select(m => m.Groups["column"].Value),
            column => Assert.Contains((column, "int"), ddl.Partitions)); // filters on partitions only: Athena reads only their folders
    }

    /// <summary>The guide's query <paramref name="name"/>, reading the synced folder under <paramref name="root"/>.</summary>
    private static string Query(string name, string root)
    {
        string sql = Guide.Block("sql duckdb:" + name);
        string folder = Guide.Sync().Folder;
        Assert.Contains("'" + folder, sql, StringComparison.Ordinal);
        return sql.Replace("'" + folder, "'" + root.Replace('\\', '/') + "/" + folder, StringComparison.Ordinal);
    }

    /// <summary>
    /// Exports the batches (one flush a minute) with the guide's options of <paramref name="exporter"/> under a new
    /// test prefix, then downloads what the guide's sync command copies into a new temp folder, which it returns.
    /// </summary>
    private static async Task<TemporaryFolder> ExportAndSyncAsync(string exporter, ExportableEvent[][] batches)
    {
        S3TestServer server = await S3TestServer.RequireAsync();
        using AmazonS3Client s3 = server.CreateClient();
        string prefix = S3TestServer.NewPrefix("guide");
        (string syncBucket, string syncPrefix, string syncFolder) = Guide.Sync();
        string s3Path = Guide.ExporterOption(exporter, "S3Path") ?? "";
        Assert.Equal(Guide.ExporterOption(exporter, "Bucket"), syncBucket);
        Assert.StartsWith(syncPrefix, s3Path, StringComparison.Ordinal); // the sync copies what the exporter writes

        var options = new S3ExporterOptions { Bucket = server.Bucket, S3Path = prefix + s3Path, Format = Guide.ExporterOption(exporter, "Format") ?? "JSON" };
        EventType eventType = Enum.Parse<EventType>(Guide.ExporterOption(exporter, "EventType") ?? nameof(EventType.Feature));
        var clock = new FakeTimeProvider(FlushTime);
        using (var s3Exporter = new S3Exporter(options, s3, eventType, clock))
        {
            await s3Exporter.ExportEachAsync(clock, batches);
        }

        return await MinuteFlushes.DownloadAsync(s3, server.Bucket, prefix + syncPrefix, syncFolder);
    }

    /// <summary>The Athena type of a DuckDB column type read from the exporter's Parquet files.</summary>
    private static string AthenaType(string duckDbType) => duckDbType switch
    {
        "VARCHAR" => "string",
        "BIGINT" => "bigint",
        "BOOLEAN" => "boolean",
        "MAP(VARCHAR, VARCHAR)" => "map<string,string>",
        _ => throw new InvalidOperationException($"No Athena type known for the Parquet column type '{duckDbType}'"),
    };

    private static DateTime Utc(long unixSeconds) => DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime;

    private static long At(int day, int hour, int minute) => new DateTimeOffset(2021, 4, day, hour, minute, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    /// <summary>
    /// Two batches over three days, late and early hours included (the New York session would move them to another
    /// day): three flags, two variations, four users, with different counts in each group.
    /// </summary>
    private static FeatureEvent[][] FeatureBatches()
    {
        static IEnumerable<FeatureEvent> Slot(int count, long creationDate) => Enumerable.Range(0, count).Select(i => new FeatureEvent
        {
            ContextKind = "user",
            UserKey = $"user-{(i * 7 + count) % 4}",
            CreationDate = creationDate + i,
            Key = $"flag-{(char)('a' + (i % 3))}",
            Variation = i % 4 == 0 ? "off" : "on",
            Value = i % 4 != 0,
            Default = i % 5 == 0,
            Version = "v1",
            Source = "SERVER",
        });

        return
        [
            [.. Slot(7, At(9, 1, 0)), .. Slot(5, At(9, 23, 30)), .. Slot(9, At(10, 2, 15))],
            [.. Slot(4, At(10, 2, 50)), .. Slot(11, At(10, 17, 0)), .. Slot(6, At(11, 3, 0))],
        ];
    }

    /// <summary>Two batches of purchases (with an amount) and sign-ups (no details) over two days.</summary>
    private static TrackingEvent[][] TrackingBatches()
    {
        static IEnumerable<TrackingEvent> Purchases(int count, long creationDate) => Enumerable.Range(0, count).Select(i => new TrackingEvent
        {
            ContextKind = "user",
            UserKey = $"buyer-{i % 3}",
            CreationDate = creationDate + i,
            Key = "purchase",
            EvaluationContext = new Dictionary<string, FlagValue> { ["targetingKey"] = $"buyer-{i % 3}" },
            TrackingEventDetails = new Dictionary<string, FlagValue> { ["amount"] = 10 + (i * 0.25), ["currency"] = "EUR" },
        });
        static IEnumerable<TrackingEvent> SignUps(int count, long creationDate) => Enumerable.Range(0, count).Select(i => new TrackingEvent
        {
            ContextKind = "anonymousUser",
            UserKey = $"visitor-{i}",
            CreationDate = creationDate + i,
            Key = "sign-up",
        });

        return
        [
            [.. Purchases(5, At(9, 22, 0)), .. SignUps(3, At(9, 23, 0)), .. Purchases(2, At(10, 0, 30))],
            [.. SignUps(4, At(10, 9, 0)), .. Purchases(6, At(10, 23, 59))],
        ];
    }

    /// <summary>A Hive partition folder of an <c>S3Path</c>: <c>year={{ .Year}}</c>.</summary>
    [GeneratedRegex(@"(?<key>\w+)=\{\{\s*\.(?<field>\w+)\s*\}\}")]
    private static partial Regex HivePartition();

    /// <summary>A field of an <c>S3Path</c>: <c>{{ .Year}}</c>.</summary>
    [GeneratedRegex(@"\{\{\s*\.(?<field>\w+)\s*\}\}")]
    private static partial Regex TemplateField();
}

using FlagExport.S3.Tests.Support;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.S3.Tests;

/// <summary>
/// Any options, changed between any attempts, with failures anywhere (an upload refused, an upload made whose answer
/// is lost, a HEAD failing, a record that cannot be written; a success whose answer is lost; a restart from the records
/// on disk): in the end each event is in exactly one object, and no object is ever replaced (in-memory S3).
/// </summary>
public sealed class S3OptionChangeProperties
{
    private const string Bucket = "in-memory-bucket";
    private const int MaxAttempts = 8;
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Property(MaxTest = 100, QuietOnSuccess = true)]
    public void Every_event_is_written_once_whatever_options_change_between_failed_attempts(byte[] script) =>
        RunAsync(new ScriptedChoices(script)).GetAwaiter().GetResult(); // FsCheck does not await a task: its assertions would go unseen

    private static async Task RunAsync(ScriptedChoices choices)
    {
        using var s3 = new InMemoryS3(Bucket);
        FeatureEvent[] events = [.. Enumerable.Range(0, 10 + choices.Next(50)).Select(i => ObjectStoreEvents.Create(1, $"user-{i:D3}", ObjectStoreEvents.CreationDate + (i * 600L))[0])];
        var records = new RestartableRecords("property", events.Length);
        var clock = new FakeTimeProvider(FlushTime);
        var reservations = new ObjectNameReservations();
        var seen = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        S3Exporter? exporter = null;
        bool succeeded = false;
        try
        {
            // Faults are set by call number and a late one may fire in a later attempt, so attempts go on (without new
            // faults) until one succeeds; each fault fires once.
            for (int attempt = 1; attempt <= 2 * MaxAttempts && !succeeded; attempt++)
            {
                bool newFaults = attempt < MaxAttempts;
                if (exporter is null || choices.Next(3) != 0)
                {
                    exporter?.Dispose();
                    exporter = new S3Exporter(RandomOptions(choices), s3, timeProvider: clock) { Writer = { Reservations = reservations } };
                }

                records.FailPersist(newFaults ? InjectFault(choices, s3) : 0);
                try
                {
                    await exporter.ExportAsync(new ExportBatch(events, records.State, attempt), TestContext.Current.CancellationToken);
                    succeeded = true;
                }
                catch (Exception exception) when (exception is S3ExportException or IOException)
                {
                    Assert.True(exception is S3ExportException || exception.Message.StartsWith("injected", StringComparison.Ordinal), exception.ToString());
                }

                records.FailPersist(0);
                AssertNothingReplaced(s3, seen);
                if (succeeded && newFaults && choices.Next(3) == 0)
                {
                    succeeded = false; // its answer was lost: the batch is retried
                }

                if (!succeeded && choices.Next(2) == 0)
                {
                    // A restart: the records on disk, another exporter, no memory of key names given out.
                    records.Restart();
                    exporter.Dispose();
                    exporter = null;
                    reservations = new ObjectNameReservations();
                }

                clock.Advance(TimeSpan.FromSeconds(1 + choices.Next(3)));
            }
        }
        finally
        {
            exporter?.Dispose();
        }

        Assert.True(succeeded, "no attempt succeeded");
        List<string> written = ObjectEvents.UserKeys(s3, Bucket);
        Assert.Equal(events.Length, written.Count);
        Assert.Equal(events.Select(e => e.UserKey).Order(StringComparer.Ordinal), written.Order(StringComparer.Ordinal));
    }

    /// <summary>Sets one fault for the coming attempt, and returns the record write that fails (0 for none).</summary>
    private static int InjectFault(ScriptedChoices choices, InMemoryS3 s3)
    {
        int puts = s3.Calls.Count(c => c.StartsWith("PutObject ", StringComparison.Ordinal));
        int heads = s3.Calls.Count(c => c.StartsWith("HeadObject ", StringComparison.Ordinal));
        switch (choices.Next(5))
        {
            case 1:
                return 1 + choices.Next(12);
            case 2:
                _ = s3.Fail("PutObject", puts + 1 + choices.Next(6), InMemoryS3.NetworkError());
                return 0;
            case 3:
                _ = s3.CommitThenFail("PutObject", puts + 1 + choices.Next(6), InMemoryS3.NetworkError());
                return 0;
            case 4:
                _ = s3.Fail("HeadObject", heads + 1 + choices.Next(2), InMemoryS3.Status(System.Net.HttpStatusCode.InternalServerError, "InternalError"));
                return 0;
            default:
                return 0;
        }
    }

    private static S3ExporterOptions RandomOptions(ScriptedChoices choices)
    {
        string format = choices.Pick("JSON", "CSV", "Parquet");
        return new S3ExporterOptions
        {
            Bucket = Bucket,
            S3Path = choices.Pick("p/", "h/{{ .Year}}/{{ .Month}}/{{ .Day}}/{{ .Hour}}/", "d/{{ .Day}}/"),
            Format = format,
            Compression = format == "Parquet" ? "none" : choices.Pick("none", "gzip", "zstd"),
            MaxBatchBytes = choices.Pick<int?>(null, 1024, 2048, 8192),
            ParquetCompressionCodec = choices.Pick("SNAPPY", "GZIP", "UNCOMPRESSED", "ZSTD"),
            ParquetRowGroupSize = choices.Pick(1, 7, 1000),
            Filename = choices.Pick("batch-{{ .Timestamp}}.{{ .Format}}", "f-{{ .UUID}}.{{ .Format}}", "batch.{{ .Format}}"),
            CsvTemplate = choices.Pick(ExportFileOptions.DefaultCsvTemplate, "{{ .Key}};{{ .UserKey}}\n"),
        };
    }

    /// <summary>Every object seen after an earlier attempt is still there with the same bytes; new ones are remembered.</summary>
    private static void AssertNothingReplaced(InMemoryS3 s3, Dictionary<string, byte[]> seen)
    {
        foreach ((string key, byte[] body) in seen)
        {
            Assert.True(s3.TryGet(Bucket, key, out byte[] now, out _), $"{key} was removed");
            Assert.True(body.AsSpan().SequenceEqual(now), $"{key} was replaced");
        }

        foreach (string key in s3.Keys(Bucket))
        {
            _ = s3.TryGet(Bucket, key, out byte[] body, out _);
            _ = seen.TryAdd(key, body);
        }
    }
}

using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Exporters;

/// <summary>
/// Any options, changed between any attempts, with failures anywhere (a record that cannot be written, before or after
/// a part became visible; a success whose answer is lost; a restart from the records on disk): in the end each event
/// is in exactly one file, and no file is ever replaced or removed.
/// </summary>
public sealed class FileExporterOptionChangeProperties
{
    private const int MaxAttempts = 8;
    private static readonly DateTimeOffset FlushTime = DateTimeOffset.FromUnixTimeSeconds(1617970800);

    [Property(MaxTest = 100, QuietOnSuccess = true)]
    public void Every_event_is_written_once_whatever_options_change_between_failed_attempts(byte[] script) =>
        RunAsync(new ScriptedChoices(script)).GetAwaiter().GetResult(); // FsCheck does not await a task: its assertions would go unseen

    private static async Task RunAsync(ScriptedChoices choices)
    {
        using var first = new TempDirectory();
        using var second = new TempDirectory();
        FeatureEvent[] events = PartTestEvents.Create(10 + choices.Next(50));
        var records = new RestartableRecords("property", events.Length);
        var clock = new FakeTimeProvider(FlushTime);
        var seen = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            FileExporterOptions options = RandomOptions(choices, choices.Pick(first.Path, second.Path));
            records.FailPersist(attempt < MaxAttempts ? choices.Next(12) : 0); // the n-th record write of the attempt fails, or none
            bool succeeded;
            using (var exporter = new FileExporter(options, timeProvider: clock))
            {
                try
                {
                    await exporter.ExportAsync(new ExportBatch(events, records.State, attempt), TestContext.Current.CancellationToken);
                    succeeded = true;
                }
                catch (IOException exception) when (exception.Message.StartsWith("injected", StringComparison.Ordinal))
                {
                    succeeded = false;
                }
            }

            records.FailPersist(0);
            AssertNothingReplaced(seen, first.Path, second.Path);
            if (succeeded && (attempt == MaxAttempts || choices.Next(3) != 0))
            {
                break; // the success was heard; otherwise its answer was lost and the batch is retried
            }

            if (choices.Next(2) == 0)
            {
                records.Restart();
            }

            clock.Advance(TimeSpan.FromSeconds(1 + choices.Next(3)));
        }

        List<string> written = WrittenEvents.UserKeys(first.Path, second.Path);
        Assert.Equal(events.Length, written.Count);
        Assert.Equal(events.Select(e => e.UserKey).Order(StringComparer.Ordinal), written.Order(StringComparer.Ordinal));
    }

    private static FileExporterOptions RandomOptions(ScriptedChoices choices, string folder) => new()
    {
        OutputDir = folder,
        Format = choices.Pick("JSON", "CSV", "Parquet"),
        MaxBatchBytes = choices.Pick<int?>(null, 1024, 2048, 8192),
        ParquetCompressionCodec = choices.Pick("SNAPPY", "GZIP", "UNCOMPRESSED", "ZSTD"),
        ParquetRowGroupSize = choices.Pick(1, 7, 1000),
        Filename = choices.Pick("batch-{{ .Timestamp}}.{{ .Format}}", "f-{{ .UUID}}.{{ .Format}}", "{{ .Hostname}}-{{ .Sequence}}.{{ .Format}}"),
        CsvTemplate = choices.Pick(ExportFileOptions.DefaultCsvTemplate, "{{ .Key}};{{ .UserKey}}\n"),
    };

    /// <summary>Every file seen after an earlier attempt is still there with the same bytes; new ones are remembered.</summary>
    private static void AssertNothingReplaced(Dictionary<string, byte[]> seen, params string[] folders)
    {
        foreach ((string path, byte[] content) in seen)
        {
            Assert.True(File.Exists(path), $"{path} was removed");
            Assert.True(content.AsSpan().SequenceEqual(File.ReadAllBytes(path)), $"{path} was replaced");
        }

        foreach (string path in folders.SelectMany(f => Directory.EnumerateFiles(f, "*", SearchOption.AllDirectories)))
        {
            _ = seen.TryAdd(path, File.ReadAllBytes(path));
        }
    }
}

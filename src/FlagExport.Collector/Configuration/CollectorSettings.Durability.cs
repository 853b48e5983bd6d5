using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <content>The top-level keys of the durable buffer and the dead letters.</content>
internal sealed partial class CollectorSettings
{
    /// <summary>The top-level keys read here.</summary>
    internal static readonly string[] DurabilityKeys = ["bufferDirectory", "maxBufferBytes", "deadLetterDirectory", "maxRetryDuration"];

    /// <summary><c>bufferDirectory</c>: the durable buffer's folder, or null (events in memory only).</summary>
    public string? BufferDirectory { get; private init; }

    /// <summary><c>maxBufferBytes</c>: the durable buffer's capacity.</summary>
    public long MaxBufferBytes { get; private init; } = DurableBufferOptions.DefaultMaxBufferBytes;

    /// <summary><c>deadLetterDirectory</c>: where batches that cannot be written go, for every exporter.</summary>
    public string DeadLetterDirectory { get; private init; } = DataExporterOptions.DefaultDeadLetterDirectory;

    /// <summary><c>maxRetryDuration</c>: how long a failing batch is retried before it becomes a dead letter.</summary>
    public TimeSpan MaxRetryDuration { get; private init; } = DataExporterOptions.DefaultMaxRetryDuration;

    private static readonly long MaxRetryDurationLimitMilliseconds = (long)DataExporterOptionsValidator.MaxTimerDelay.TotalMilliseconds;

    private static CollectorSettings ReadDurability(IConfiguration configuration, List<string> errors)
    {
        string? bufferDirectory = ReadFolder(configuration["bufferDirectory"], "bufferDirectory", errors);
        long maxBufferBytes = DurableBufferOptions.DefaultMaxBufferBytes;
        if (configuration["maxBufferBytes"] is { } maxText)
        {
            if (long.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out long max) && max >= DurableBufferOptions.MinMaxBufferBytes)
            {
                maxBufferBytes = max;
            }
            else
            {
                errors.Add($"maxBufferBytes: must be a number of bytes of at least {DurableBufferOptions.MinMaxBufferBytes.ToString(CultureInfo.InvariantCulture)} (1 MiB); got '{maxText}'.");
            }
        }

        string deadLetterDirectory = ReadFolder(configuration["deadLetterDirectory"], "deadLetterDirectory", errors) ?? DataExporterOptions.DefaultDeadLetterDirectory;
        TimeSpan maxRetryDuration = ReadMilliseconds(configuration["maxRetryDuration"], "maxRetryDuration", MaxRetryDurationLimitMilliseconds, NumberStyles.None, errors)
            ?? DataExporterOptions.DefaultMaxRetryDuration;

        return new CollectorSettings
        {
            BufferDirectory = bufferDirectory, MaxBufferBytes = maxBufferBytes, DeadLetterDirectory = deadLetterDirectory, MaxRetryDuration = maxRetryDuration,
        };
    }

    /// <summary>A folder path; null when missing or blank (then an error naming <paramref name="key"/> is added).</summary>
    private static string? ReadFolder(string? text, string key, List<string> errors)
    {
        if (text is not null && string.IsNullOrWhiteSpace(text))
        {
            errors.Add($"{key}: must name a folder; got '{text}'.");
            return null;
        }

        return text;
    }
}

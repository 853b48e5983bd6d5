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
        string? bufferDirectory = null;
        long maxBufferBytes = DurableBufferOptions.DefaultMaxBufferBytes;
        string deadLetterDirectory = DataExporterOptions.DefaultDeadLetterDirectory;
        TimeSpan maxRetryDuration = DataExporterOptions.DefaultMaxRetryDuration;
        if (configuration["bufferDirectory"] is { } buffer)
        {
            if (string.IsNullOrWhiteSpace(buffer))
            {
                errors.Add($"bufferDirectory: must name a folder; got '{buffer}'.");
            }
            else
            {
                bufferDirectory = buffer;
            }
        }

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

        if (configuration["deadLetterDirectory"] is { } deadLetters)
        {
            if (string.IsNullOrWhiteSpace(deadLetters))
            {
                errors.Add($"deadLetterDirectory: must name a folder; got '{deadLetters}'.");
            }
            else
            {
                deadLetterDirectory = deadLetters;
            }
        }

        if (configuration["maxRetryDuration"] is { } retryText)
        {
            if (long.TryParse(retryText, NumberStyles.None, CultureInfo.InvariantCulture, out long milliseconds)
                && milliseconds > 0 && milliseconds <= MaxRetryDurationLimitMilliseconds)
            {
                maxRetryDuration = TimeSpan.FromMilliseconds(milliseconds);
            }
            else
            {
                errors.Add($"maxRetryDuration: must be a whole number of milliseconds between 1 and {MaxRetryDurationLimitMilliseconds.ToString(CultureInfo.InvariantCulture)}; got '{retryText}'.");
            }
        }
    
        return new CollectorSettings
        {
            BufferDirectory = bufferDirectory, MaxBufferBytes = maxBufferBytes, DeadLetterDirectory = deadLetterDirectory, MaxRetryDuration = maxRetryDuration,
        };
    }
}

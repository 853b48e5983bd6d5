using System.Globalization;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>
/// The one validation path for <see cref="DataExporterOptions"/>: used by <c>ValidateOnStart</c> in the hosting
/// extensions and by the <see cref="DataExporter"/> constructor.
/// </summary>
/// <remarks>
/// Messages name the option by its configuration path (<c>FlagExport:Exporters:&lt;name&gt;:FlushInterval</c>) for named
/// options, or by <c>DataExporterOptions</c> when there is no name, and quote the rejected value.
/// </remarks>
internal sealed class DataExporterOptionsValidator : IValidateOptions<DataExporterOptions>
{
    /// <summary>The configuration section under which each named exporter's options live.</summary>
    internal const string ExportersSection = "FlagExport:Exporters";

    /// <summary>The shortest duration a timer honours.</summary>
    internal static readonly TimeSpan MinDuration = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest <see cref="DataExporterOptions.FlushInterval"/>: one day.</summary>
    internal static readonly TimeSpan MaxFlushInterval = TimeSpan.FromDays(1);

    /// <summary>The largest <see cref="DataExporterOptions.MaxEventInMemory"/>: a batch must still encode below 2 GB.</summary>
    internal const int MaxEventInMemoryLimit = 10_000_000;

    /// <summary>
    /// The bounds of <see cref="DataExporterOptions.MaxBatchEncodedBytes"/>: above 1 GiB a format that writes more than
    /// the JSON bound (CSV doubling quotes) could reach the 2 GiB of an encoder's buffer.
    /// </summary>
    internal const long MinBatchEncodedBytes = 1L << 20, MaxBatchEncodedBytesLimit = 1L << 30;

    /// <summary>The largest <see cref="DataExporterOptions.MaxBufferedEvents"/>.</summary>
    internal const int MaxBufferedEventsLimit = 100_000_000;

    /// <summary>The largest due time a timer accepts (0xFFFFFFFE ms, about 49.7 days).</summary>
    internal static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, DataExporterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string>? failures = Collect(PrefixFor(name), options);
        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The configuration path of the options named <paramref name="name"/>.</summary>
    internal static string PrefixFor(string? name) =>
        string.IsNullOrEmpty(name) ? nameof(DataExporterOptions) : $"{ExportersSection}:{name}";

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every invalid option.</summary>
    internal static void ThrowIfInvalid(string? name, DataExporterOptions options)
    {
        List<string>? failures = Collect(PrefixFor(name), options);
        if (failures is not null)
        {
            throw new OptionsValidationException(name ?? Options.DefaultName, typeof(DataExporterOptions), failures);
        }
    }

    private static List<string>? Collect(string prefix, DataExporterOptions options)
    {
        List<string>? failures = OptionsBinding.FailuresOf(options) is { Count: > 0 } unbound ? [.. unbound] : null;
        // A bare number in configuration ("10") binds as days: the one-day cap turns that mistake into an error.
        CheckDuration(ref failures, prefix, nameof(DataExporterOptions.FlushInterval), options.FlushInterval, MaxFlushInterval);
        CheckDuration(ref failures, prefix, nameof(DataExporterOptions.ShutdownTimeout), options.ShutdownTimeout, MaxTimerDelay);
        CheckDuration(ref failures, prefix, nameof(DataExporterOptions.ExportTimeout), options.ExportTimeout, MaxTimerDelay);
        CheckDuration(ref failures, prefix, nameof(DataExporterOptions.MaxRetryDuration), options.MaxRetryDuration, MaxTimerDelay);
        if (string.IsNullOrWhiteSpace(options.DeadLetterDirectory))
        {
            (failures ??= []).Add($"{prefix}:{nameof(DataExporterOptions.DeadLetterDirectory)} must name a folder; got '{options.DeadLetterDirectory}'.");
        }

        if (options.MaxEventInMemory <= 0)
        {
            Add(ref failures, prefix, nameof(DataExporterOptions.MaxEventInMemory), "must be greater than zero", options.MaxEventInMemory);
        }
        else if (options.MaxEventInMemory > MaxEventInMemoryLimit)
        {
            Add(ref failures, prefix, nameof(DataExporterOptions.MaxEventInMemory),
                $"must be at most {MaxEventInMemoryLimit.ToString("N0", CultureInfo.InvariantCulture)}", options.MaxEventInMemory);
        }

        if (options.MaxBatchEncodedBytes is < MinBatchEncodedBytes or > MaxBatchEncodedBytesLimit)
        {
            Add(ref failures, prefix, nameof(DataExporterOptions.MaxBatchEncodedBytes),
                $"must be between {MinBatchEncodedBytes.ToString(CultureInfo.InvariantCulture)} (1 MiB) and {MaxBatchEncodedBytesLimit.ToString(CultureInfo.InvariantCulture)} (1 GiB)", options.MaxBatchEncodedBytes);
        }

        if (options.MaxBufferedEvents is int maxBuffered)
        {
            if (maxBuffered <= 0)
            {
                Add(ref failures, prefix, nameof(DataExporterOptions.MaxBufferedEvents), "must be greater than zero", maxBuffered);
            }
            else if (maxBuffered > MaxBufferedEventsLimit)
            {
                Add(ref failures, prefix, nameof(DataExporterOptions.MaxBufferedEvents),
                    $"must be at most {MaxBufferedEventsLimit.ToString("N0", CultureInfo.InvariantCulture)}", maxBuffered);
            }
            else if (maxBuffered < options.MaxEventInMemory)
            {
                Add(ref failures, prefix, nameof(DataExporterOptions.MaxBufferedEvents),
                    $"must be at least MaxEventInMemory ({options.MaxEventInMemory.ToString(CultureInfo.InvariantCulture)})", maxBuffered);
            }
        }

        if (!Enum.IsDefined(options.EventType))
        {
            Add(ref failures, prefix, nameof(DataExporterOptions.EventType),
                $"must be one of {string.Join(", ", Enum.GetNames<EventType>())}", options.EventType);
        }

        return failures;
    }

    private static void CheckDuration(ref List<string>? failures, string prefix, string option, TimeSpan value, TimeSpan maximum)
    {
        if (value <= TimeSpan.Zero)
        {
            Add(ref failures, prefix, option, "must be greater than zero", value);
        }
        else if (value < MinDuration)
        {
            // Timers count whole milliseconds: a shorter period is 0, which fires once and never again.
            Add(ref failures, prefix, option, "must be at least 1 millisecond", value);
        }
        else if (value > maximum)
        {
            Add(ref failures, prefix, option, $"must be at most {maximum.ToString("c", CultureInfo.InvariantCulture)} (written hh:mm:ss)", value);
        }
    }

    private static void Add<T>(ref List<string>? failures, string prefix, string option, string rule, T value)
        where T : IFormattable
    {
        string text = value.ToString(value is TimeSpan ? "c" : null, CultureInfo.InvariantCulture);
        (failures ??= []).Add($"{prefix}:{option} {rule}; got '{text}'.");
    }
}

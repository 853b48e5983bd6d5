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
        List<string>? failures = null;
        CheckDuration(ref failures, prefix, nameof(DataExporterOptions.FlushInterval), options.FlushInterval);
        CheckDuration(ref failures, prefix, nameof(DataExporterOptions.ShutdownTimeout), options.ShutdownTimeout);
        CheckDuration(ref failures, prefix, nameof(DataExporterOptions.ExportTimeout), options.ExportTimeout);

        if (options.MaxEventInMemory <= 0)
        {
            Add(ref failures, prefix, nameof(DataExporterOptions.MaxEventInMemory), "must be greater than zero", options.MaxEventInMemory);
        }

        if (options.MaxBufferedEvents is int maxBuffered)
        {
            if (maxBuffered <= 0)
            {
                Add(ref failures, prefix, nameof(DataExporterOptions.MaxBufferedEvents), "must be greater than zero", maxBuffered);
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

    private static void CheckDuration(ref List<string>? failures, string prefix, string option, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            Add(ref failures, prefix, option, "must be greater than zero", value);
        }
        else if (value > MaxTimerDelay)
        {
            Add(ref failures, prefix, option, $"must be at most {MaxTimerDelay.ToString("c", CultureInfo.InvariantCulture)}", value);
        }
    }

    private static void Add<T>(ref List<string>? failures, string prefix, string option, string rule, T value)
        where T : IFormattable
    {
        string text = value.ToString(value is TimeSpan ? "c" : null, CultureInfo.InvariantCulture);
        (failures ??= []).Add($"{prefix}:{option} {rule}; got '{text}'.");
    }
}

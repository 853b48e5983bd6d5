using System.Globalization;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>Checks <see cref="DurableBufferOptions"/> when the host starts; messages name the configuration key and the value.</summary>
internal sealed class DurableBufferOptionsValidator : IValidateOptions<DurableBufferOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, DurableBufferOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> failures = [.. OptionsBinding.FailuresOf(options)];
        if (options.BufferDirectory is { } directory && string.IsNullOrWhiteSpace(directory) && directory.Length > 0)
        {
            failures.Add($"{FlagExportBuilder.SectionName}:{nameof(DurableBufferOptions.BufferDirectory)} must name a folder; got '{directory}'.");
        }

        if (options.MaxBufferBytes < DurableBufferOptions.MinMaxBufferBytes)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{FlagExportBuilder.SectionName}:{nameof(DurableBufferOptions.MaxBufferBytes)} must be at least {DurableBufferOptions.MinMaxBufferBytes} (1 MiB); got '{options.MaxBufferBytes}'."));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

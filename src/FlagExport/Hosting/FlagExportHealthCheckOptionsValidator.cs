using System.Globalization;
using Microsoft.Extensions.Options;

namespace FlagExport;

/// <summary>Checks <see cref="FlagExportHealthCheckOptions"/> when the host starts; messages name the option and the value.</summary>
internal sealed class FlagExportHealthCheckOptionsValidator : IValidateOptions<FlagExportHealthCheckOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, FlagExportHealthCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string prefix = string.IsNullOrEmpty(name) ? nameof(FlagExportHealthCheckOptions) : $"{nameof(FlagExportHealthCheckOptions)}[{name}]";
        List<string>? failures = null;
        if (options.FailingAfter < TimeSpan.Zero)
        {
            (failures ??= []).Add(string.Create(CultureInfo.InvariantCulture,
                $"{prefix}:{nameof(FlagExportHealthCheckOptions.FailingAfter)} must not be negative; got '{options.FailingAfter}'."));
        }

        // Written so that NaN fails too.
        if (!(options.BufferFullRatio is > 0 and <= 1))
        {
            (failures ??= []).Add(string.Create(CultureInfo.InvariantCulture,
                $"{prefix}:{nameof(FlagExportHealthCheckOptions.BufferFullRatio)} must be greater than 0 and at most 1; got '{options.BufferFullRatio}'."));
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

using System.Diagnostics.CodeAnalysis;

namespace FlagExport.Formats;

/// <summary>Parses and names <see cref="ExportFormat"/> values as users write them in options.</summary>
internal static class ExportFormats
{
    /// <summary>The accepted values, as the documentation lists them.</summary>
    public const string ValidValues = "JSON, CSV, Parquet";

    /// <summary>Parses <paramref name="value"/> case-insensitively; null or empty means JSON, the default.</summary>
    public static bool TryParse(string? value, out ExportFormat format)
    {
        format = ExportFormat.Json;
        if (string.IsNullOrEmpty(value) || value.Equals("json", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (value.Equals("csv", StringComparison.OrdinalIgnoreCase))
        {
            format = ExportFormat.Csv;
            return true;
        }

        if (value.Equals("parquet", StringComparison.OrdinalIgnoreCase))
        {
            format = ExportFormat.Parquet;
            return true;
        }

        return false;
    }

    /// <summary>Parses <paramref name="value"/> or throws an error that names the option, the value and the valid values.</summary>
    public static ExportFormat Parse(string? value, string optionName) =>
        TryParse(value, out ExportFormat format)
            ? format
            : throw new ArgumentException($"{optionName} '{value}' is not a valid format; valid values are {ValidValues} (case-insensitive).", optionName);

    /// <summary>The lower-case name used for <c>{{ .Format}}</c> in file names: json, csv or parquet.</summary>
    [SuppressMessage("Globalization", "CA1308", Justification = "File extensions are lower case by convention.")]
    public static string ToFileExtension(this ExportFormat format) => format switch
    {
        ExportFormat.Json => "json",
        ExportFormat.Csv => "csv",
        ExportFormat.Parquet => "parquet",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>The name as the documentation writes it: JSON, CSV or Parquet.</summary>
    public static string ToDisplayName(this ExportFormat format) => format switch
    {
        ExportFormat.Json => "JSON",
        ExportFormat.Csv => "CSV",
        ExportFormat.Parquet => "Parquet",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };
}

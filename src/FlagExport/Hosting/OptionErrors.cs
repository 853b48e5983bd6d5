namespace FlagExport;

/// <summary>Turns the <see cref="ArgumentException"/> an invalid option throws into a message for a configuration key.</summary>
internal static class OptionErrors
{
    /// <summary>
    /// The message without the " (Parameter 'Format')" that <see cref="ArgumentException.Message"/> appends: callers put
    /// the configuration key in front instead ("FlagExport:Exporters:file:Format 'xml' is not …").
    /// </summary>
    public static string MessageOf(ArgumentException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.ParamName is null ? error.Message : error.Message.Replace($" (Parameter '{error.ParamName}')", "", StringComparison.Ordinal);
    }
}

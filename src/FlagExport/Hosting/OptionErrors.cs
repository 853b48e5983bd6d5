namespace FlagExport;

/// <summary>Turns the <see cref="ArgumentException"/> an invalid option throws into a message for a configuration key.</summary>
/// <remarks>
/// Every failure FlagExport reports for a configuration section starts with the full key it is about, then a space and
/// the rule (<c>FlagExport:Exporters:file:Format 'xml' is not a valid format; …</c>), or, when the exception names no
/// option, with the section's path, a colon and the message. Hosts that read the same options under other key names
/// (the collector's relay-proxy YAML keys) rely on that shape to name the key their users wrote.
/// </remarks>
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

    /// <summary>The error for an invalid option: an <see cref="ArgumentException"/> whose parameter name is the option's.</summary>
    public static ArgumentException Invalid(string message, string optionName) => new(message, optionName);

    /// <summary>
    /// The failure for <paramref name="error"/>, thrown for an option of the section <paramref name="sectionPath"/>:
    /// <c>&lt;section&gt;:&lt;Option&gt; &lt;rule&gt;</c> when the message starts with the option's name,
    /// <c>&lt;section&gt;:&lt;Option&gt;: &lt;message&gt;</c> when it names the option elsewhere, and
    /// <c>&lt;section&gt;: &lt;message&gt;</c> when the exception names no option.
    /// </summary>
    public static string Failure(string sectionPath, ArgumentException error)
    {
        string message = MessageOf(error);
        string? option = error.ParamName;
        if (option is not { Length: > 0 } || !char.IsUpper(option[0]))
        {
            return $"{sectionPath}: {message}";
        }

        return message.StartsWith(option, StringComparison.Ordinal) && message.Length > option.Length && message[option.Length] is ' ' or '['
            ? $"{sectionPath}:{message}"
            : $"{sectionPath}:{option}: {message}";
    }
}

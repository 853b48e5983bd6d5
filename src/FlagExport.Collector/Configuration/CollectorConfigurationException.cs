namespace FlagExport.Collector.Configuration;

/// <summary>The configuration cannot work; <see cref="Errors"/> lists every problem, each naming its key.</summary>
internal sealed class CollectorConfigurationException : Exception
{
    public CollectorConfigurationException(IReadOnlyList<string> errors)
        : base("Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
    {
        Errors = errors;
    }

    public CollectorConfigurationException()
        : this([])
    {
    }

    public CollectorConfigurationException(string message)
        : this([message])
    {
    }

    public CollectorConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    /// <summary>One line per problem, such as <c>exporters[1].format: 'xml' is not a valid format; …</c>.</summary>
    public IReadOnlyList<string> Errors { get; } = [];
}

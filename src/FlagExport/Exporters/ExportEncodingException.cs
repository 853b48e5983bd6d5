namespace FlagExport;

/// <summary>A batch could not be encoded (JSON lines, CSV, Parquet): permanent, retrying gives the same result.</summary>
public sealed class ExportEncodingException : Exception, IExportFailure
{
    /// <summary>Creates the exception.</summary>
    public ExportEncodingException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What could not be encoded.</param>
    public ExportEncodingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the encoder's error.</summary>
    /// <param name="message">What could not be encoded.</param>
    /// <param name="innerException">The encoder's error.</param>
    public ExportEncodingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <inheritdoc/>
    public bool IsPermanent => true;

    /// <inheritdoc/>
    public string Reason => InnerException?.Message ?? Message;
}

namespace FlagExport;

/// <summary>
/// Every candidate name for a file, from the name itself to its last suffix, is taken. Permanent: a batch keeps the name
/// it recorded on its first attempt, so waiting frees nothing, and the batch is set aside as a dead letter at once.
/// </summary>
internal sealed class NoFreeNameException(string message) : IOException(message), IExportFailure
{
    /// <inheritdoc/>
    public bool IsPermanent => true;

    /// <inheritdoc/>
    public string Reason => Message;
}

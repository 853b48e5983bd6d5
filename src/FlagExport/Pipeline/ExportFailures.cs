namespace FlagExport;

/// <summary>How the pipeline reads an exporter's failure: whether retrying can help, and its reason in one line.</summary>
internal static class ExportFailures
{
    /// <summary>The first <see cref="IExportFailure"/> in <paramref name="failure"/>'s chain when it is permanent, or null.</summary>
    internal static IExportFailure? PermanentFailureOf(Exception failure) => ClassifiedFailureOf(failure) is { IsPermanent: true } permanent ? permanent : null;

    /// <summary>
    /// The reason of a failure in a line: an exporter's own (<see cref="IExportFailure.Reason"/>) when it gives one,
    /// else the messages of the exception and its inner ones.
    /// </summary>
    internal static string ReasonOf(Exception failure)
    {
        if (ClassifiedFailureOf(failure) is { } classified)
        {
            return classified.Reason;
        }

        var reason = new System.Text.StringBuilder(failure.Message);
        for (Exception? inner = failure.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!failure.Message.Contains(inner.Message, StringComparison.Ordinal))
            {
                _ = reason.Append(" (").Append(inner.Message).Append(')');
            }
        }

        return reason.ToString();
    }

    /// <summary>The first <see cref="IExportFailure"/> in <paramref name="failure"/>'s chain (the exporter's own account of it), or null.</summary>
    private static IExportFailure? ClassifiedFailureOf(Exception failure)
    {
        for (Exception? current = failure; current is not null; current = current.InnerException)
        {
            if (current is IExportFailure classified)
            {
                return classified;
            }
        }

        return null;
    }
}

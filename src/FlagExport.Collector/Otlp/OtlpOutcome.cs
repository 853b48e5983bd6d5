namespace FlagExport.Collector.Otlp;

/// <summary>What became of one OTLP export request, whichever transport carried it.</summary>
/// <param name="Kind">Accepted (with or without a partial success), or why it was refused.</param>
/// <param name="RejectedItems">Log records or spans counted in <c>partial_success</c>; 0 on a full success.</param>
/// <param name="Message">The partial success's message, or the refusal's; null on a full success.</param>
internal readonly record struct OtlpOutcome(OtlpOutcomeKind Kind, long RejectedItems, string? Message);

/// <summary>How an OTLP request is answered: HTTP status / gRPC code.</summary>
internal enum OtlpOutcomeKind
{
    /// <summary>200 / OK: every flag evaluation is kept (those in <see cref="OtlpOutcome.RejectedItems"/> never will be).</summary>
    Accepted,

    /// <summary>400 / INVALID_ARGUMENT: not a valid message; nothing kept.</summary>
    Malformed,

    /// <summary>413 / INVALID_ARGUMENT: larger than the limits allow; nothing kept, and a retry cannot help.</summary>
    TooLarge,

    /// <summary>503 / UNAVAILABLE with a retry delay: nothing kept now; the same request can be kept later.</summary>
    Unavailable,
}

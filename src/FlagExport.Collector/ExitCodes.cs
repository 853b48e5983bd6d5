namespace FlagExport.Collector;

/// <summary>The collector's exit codes (listed in Program.cs too).</summary>
internal static class ExitCodes
{
    /// <summary>A clean stop: every event accepted was written, set aside as a dead letter, or kept in the durable buffer.</summary>
    public const int Success = 0;

    /// <summary>
    /// The configuration is invalid, the address cannot be bound, an S3 bucket or an <c>outputDir</c> checked at start
    /// cannot be used, or the command line has an unknown option or argument (the usage follows the error).
    /// </summary>
    public const int StartFailed = 1;

    /// <summary>
    /// The collector stopped with events that were accepted (answered 200) but neither written nor kept in the durable
    /// buffer: the shutdown deadline came first. 2 is left out: shells and many tools use it for usage errors.
    /// </summary>
    public const int EventsLost = 3;
}

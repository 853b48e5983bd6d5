namespace FlagExport;

/// <summary>A file or object an export wrote, as reported to the pipeline for its log line.</summary>
/// <param name="Location">The path or URL written.</param>
/// <param name="EventCount">How many events it holds.</param>
/// <param name="ByteCount">Its size in bytes.</param>
/// <param name="Elapsed">The time from the attempt's start until it was written.</param>
internal readonly record struct WrittenObject(string Location, int EventCount, long ByteCount, TimeSpan Elapsed);

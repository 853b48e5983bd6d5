namespace FlagExport.Collector.Ingestion;

/// <summary>What reading a collect request's body came to: the parsed request, or the status and message of a refusal.</summary>
internal readonly record struct CollectBody(CollectRequest? Request, int StatusCode, string? Error);

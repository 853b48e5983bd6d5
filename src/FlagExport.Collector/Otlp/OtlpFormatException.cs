namespace FlagExport.Collector.Otlp;

/// <summary>An OTLP body that is not a valid message: the whole request is refused and nothing of it is kept.</summary>
internal sealed class OtlpFormatException(string message) : Exception(message);

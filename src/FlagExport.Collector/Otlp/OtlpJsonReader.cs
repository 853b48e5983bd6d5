namespace FlagExport.Collector.Otlp;

/// <summary>OTLP/JSON: not read yet; refused as malformed until the reader lands.</summary>
internal static class OtlpJsonReader
{
    /// <summary>Refuses every body.</summary>
    public static OtlpExport Read(OtlpSignal signal, ReadOnlySpan<byte> body, OtlpEventBuilder builder) =>
        throw new OtlpFormatException("OTLP/JSON is not supported yet; send application/x-protobuf.");
}

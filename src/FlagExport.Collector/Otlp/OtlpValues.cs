using System.Globalization;

namespace FlagExport.Collector.Otlp;

/// <summary>Conversions of OTLP attribute values that the protobuf and JSON readers share.</summary>
internal static class OtlpValues
{
    /// <summary>A double as a JSON number, or as its text when it is not finite (JSON cannot hold NaN or infinities).</summary>
    public static FlagValue FromDouble(double number) =>
        double.IsFinite(number) ? FlagValue.FromDouble(number) : FlagValue.FromString(number.ToString(CultureInfo.InvariantCulture));
}

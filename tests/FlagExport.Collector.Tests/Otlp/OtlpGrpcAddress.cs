using System.Text.RegularExpressions;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>The collector's OTLP/gRPC address, as its start-up line gives it (the port is chosen by the system).</summary>
public static partial class OtlpGrpcAddress
{
    /// <summary>Waits for the line <c>OTLP/gRPC listening on http://127.0.0.1:NNNN</c> and returns the address.</summary>
    public static async Task<string> WaitAsync(CollectorProcess collector)
    {
        await collector.WaitForOutputAsync("OTLP/gRPC listening on ");
        return Line().Match(collector.Output).Groups[1].Value;
    }

    [GeneratedRegex(@"OTLP/gRPC listening on (http://[^\s;,]+)")]
    private static partial Regex Line();
}

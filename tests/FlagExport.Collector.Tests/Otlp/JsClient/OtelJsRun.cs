using System.Text.Json;

namespace FlagExport.Collector.Tests.Otlp.JsClient;

/// <summary>One export call of the SDK's batch processor, as the exporter reported it after its own retries.</summary>
/// <param name="Count">How many log records or spans the call carried.</param>
/// <param name="Code">0: success; 1: failed.</param>
/// <param name="Error">The exporter's error message, when it failed.</param>
/// <param name="Status">The HTTP status, or the gRPC status code, of a refusal; null otherwise.</param>
/// <param name="ContextIds">The <c>feature_flag.context.id</c> of each item carried, null for items without one.</param>
public sealed record OtelJsExport(int Count, int Code, string? Error, int? Status, string?[] ContextIds);

/// <summary>What the emitter script printed: each export call and every message the SDK logged at info or above.</summary>
public sealed record OtelJsRun(OtelJsExport[] Exports, string[] Diagnostics, string Output, string Error)
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>Everything the script printed, for failure messages.</summary>
    public string Report => $"node output: {Output}\nnode errors: {Error}";

    /// <summary>Reads the script's last output line.</summary>
    public static OtelJsRun Parse(string output, string error)
    {
        string last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"The script printed nothing. Errors: {error}");
        Printed printed = JsonSerializer.Deserialize<Printed>(last, Web)
            ?? throw new InvalidOperationException($"The script printed no result: {output} {error}");
        return new OtelJsRun(printed.Exports, printed.Diag, output, error);
    }

    private sealed record Printed(OtelJsExport[] Exports, string[] Diag);
}

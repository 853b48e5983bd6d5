using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using OtelDotnetClient;

// An application instrumented as the OpenTelemetry .NET documentation shows: the host's OpenTelemetry builder with
// logging and tracing, each with the OTLP exporter (no metrics: the collector takes logs and traces), configured by
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME and the other standard variables. It
// emits the records of a scenario file (args: logs|traces FILE) and prints, on standard output, one JSON line per
// record with the time the SDK gave it, then exits once the SDK has flushed and shut down its exporters.
if (args.Length != 2 || args[0] is not ("logs" or "traces"))
{
    await Console.Error.WriteLineAsync("usage: OtelDotnetClient logs|traces SCENARIO.json");
    return 2;
}

bool logs = args[0] == "logs";
ScenarioRecord[] scenario = JsonSerializer.Deserialize(await File.ReadAllTextAsync(args[1]), ScenarioJsonContext.Default.ScenarioRecordArray)
    ?? throw new InvalidDataException($"{args[1]}: no records");
using var diagnostics = new ExporterDiagnostics();
var emitted = new EmittedRecords();

HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders(); // standard output carries the emitted records only
builder.Services.AddOpenTelemetry()
    .WithLogging(logging => logging.AddProcessor(new EmittedLogProcessor(emitted)).AddOtlpExporter())
    .WithTracing(tracing => tracing.AddSource(Emitter.SourceName).AddOtlpExporter());

using (IHost host = builder.Build())
{
    await host.StartAsync();
    var emitter = new Emitter(host.Services.GetRequiredService<ILoggerFactory>(), emitted);
    foreach (ScenarioRecord record in scenario)
    {
        if (logs)
        {
            emitter.Log(record);
        }
        else
        {
            emitter.SpanEvent(record);
        }
    }

    emitter.EndSpan();

    // Disposing a provider gives its exporter 5 s to send what it holds; an exporter that is retrying (refused
    // batches, OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY) needs longer, so flush first, as an application that must not
    // lose its last records does.
    bool tracesFlushed = host.Services.GetRequiredService<TracerProvider>().ForceFlush(FlushTimeoutMilliseconds);
    bool logsFlushed = host.Services.GetRequiredService<LoggerProvider>().ForceFlush(FlushTimeoutMilliseconds);
    await Console.Error.WriteLineAsync($"flushed: traces {tracesFlushed}, logs {logsFlushed}");
    await host.StopAsync();
}

foreach (long timeUnixNano in emitted.Times)
{
    Console.WriteLine(JsonSerializer.Serialize(new EmittedRecord(timeUnixNano), ScenarioJsonContext.Default.EmittedRecord));
}

await Console.Error.WriteLineAsync($"exporter diagnostics: {diagnostics.Warnings} warnings or errors");
return 0;

internal static partial class Program
{
    private const int FlushTimeoutMilliseconds = 120_000;
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlagExport.Collector;

/// <summary>
/// <c>GET /health/ready</c>: the FlagExport health check as JSON, 200 when every exporter can deliver and 503 (with the
/// same body) naming each exporter that cannot and why, or the durable buffer when it cannot write. <c>/health</c> stays the relay proxy's liveness answer.
/// </summary>
internal static class ReadinessEndpoint
{
    /// <summary>The route.</summary>
    public const string Path = "/health/ready";

    /// <summary>The name of the collector's FlagExport health check.</summary>
    public const string CheckName = "flagexport";

    /// <summary>Maps the route to the FlagExport check only (another check registered later does not change it).</summary>
    public static void Map(IEndpointRouteBuilder endpoints) =>
        _ = endpoints.MapHealthChecks(Path, new HealthCheckOptions
        {
            Predicate = check => check.Name == CheckName,
            ResponseWriter = WriteAsync,
        })
        .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));

    /// <summary>Writes the report with the source-generated context (no reflection: the collector is AOT-compatible).</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var exporters = new List<ReadinessExporter>();
        ReadinessDurableBuffer? durableBuffer = null;
        foreach (HealthReportEntry entry in report.Entries.Values)
        {
            foreach (object value in entry.Data.Values)
            {
                if (value is ExporterHealth exporter)
                {
                    exporters.Add(new ReadinessExporter(
                        exporter.Name, exporter.Status.ToString(), exporter.Reasons, exporter.ConsecutiveFailures, exporter.LastSuccess,
                        exporter.FailingSince, exporter.BufferedCount, exporter.MaxBufferedEvents, exporter.DeadLetterBatchCount, exporter.DeadLetteredCount));
                }
                else if (value is DurableBufferHealth buffer)
                {
                    durableBuffer = new ReadinessDurableBuffer(buffer.SizeBytes, buffer.MaxBytes, buffer.AppendError, buffer.LastAppendFailure);
                }
            }
        }

        // MapHealthChecks has set the status code (503 when unhealthy) and no-cache headers.
        return context.Response.WriteAsJsonAsync(
            new ReadinessResponse(report.Status.ToString(), exporters, durableBuffer), CollectorJsonContext.Answers.ReadinessResponse, contentType: null, context.RequestAborted);
    }
}

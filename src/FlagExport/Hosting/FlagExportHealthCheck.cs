using System.Globalization;
using FlagExport.Durability;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlagExport;

/// <summary>
/// Readiness of the export pipelines: reports, with the registration's failure status, every exporter that has failed
/// without a success for <see cref="FlagExportHealthCheckOptions.FailingAfter"/>, whose buffer is nearly full, that
/// wrote dead letters since the start or cannot write one now, and a durable buffer that cannot write to its disk;
/// healthy otherwise. <see cref="HealthCheckResult.Data"/> holds an
/// <see cref="ExporterHealth"/> per exporter (and a <see cref="DurableBufferHealth"/> with the durable buffer).
/// </summary>
/// <remarks>
/// Reads counters the pipelines keep anyway: no I/O and no call to the destination, so it is cheap to poll. Dead letters
/// keep the check failing until the process restarts: they are events the destination does not have, and someone has to
/// look at them.
/// </remarks>
internal sealed class FlagExportHealthCheck(ExporterPipelines pipelines, FlagExportHealthCheckOptions options, TimeProvider timeProvider) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(Check(context.Registration?.FailureStatus ?? HealthStatus.Unhealthy));
    }

    private HealthCheckResult Check(HealthStatus failureStatus)
    {
        DateTimeOffset now = timeProvider.GetUtcNow();
        DurableEventStore? store = pipelines.DurableBuffer;
        bool durableNearlyFull = store is not null && store.SizeBytes >= options.BufferFullRatio * store.MaxBytes;

        // The durable buffer is shared: it is held by the exporters whose cursor is behind, so those are named.
        bool anyDurableBehind = pipelines.Pipelines.Any(p => p.IsDurable && p.BufferedCount > 0);

        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var failing = new List<string>();
        foreach (ExportWorker pipeline in pipelines.Pipelines)
        {
            var reasons = new List<string>();
            DateTimeOffset? failingSince = pipeline.FailingSince;
            if (failingSince is { } since && now - since >= options.FailingAfter)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"no export succeeded since {since:O} ({pipeline.ConsecutiveFailures} failures in a row, last success {(pipeline.LastSuccess is { } last ? last.ToString("O", CultureInfo.InvariantCulture) : "never")})"));
            }

            if (!pipeline.IsDurable && pipeline.BufferedCount >= options.BufferFullRatio * pipeline.MaxBuffered)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"its buffer is {Percent(pipeline.BufferedCount, pipeline.MaxBuffered)}% full ({pipeline.BufferedCount} of {pipeline.MaxBuffered} events); new events are dropped once it is full"));
            }

            if (durableNearlyFull && pipeline.IsDurable && (pipeline.BufferedCount > 0 || !anyDurableBehind))
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"the durable buffer is {Percent(store!.SizeBytes, store.MaxBytes)}% full ({store.SizeBytes} of {store.MaxBytes} bytes in {store.Directory}) with {pipeline.BufferedCount} events of this exporter; new events are refused once it is full"));
            }

            if (pipeline.DeadLetterError is { } deadLetterError)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"a batch it cannot write could not be set aside either: the dead-letter folder {pipeline.DeadLetterDirectory} cannot be written ({deadLetterError}); the batch stays and is retried, and later events wait behind it"));
            }

            long deadLetters = pipeline.DeadLetterBatchCount;
            if (deadLetters > 0)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{deadLetters} batches ({pipeline.DeadLetteredCount} events) were set aside as dead letters in {pipeline.DeadLetterDirectory}; fix the cause, then replay them with DeadLetters.ReplayAsync (this stays reported until the process restarts)"));
            }

            data[pipeline.Name] = new ExporterHealth
            {
                Name = pipeline.Name,
                Status = reasons.Count == 0 ? HealthStatus.Healthy : failureStatus,
                Reasons = reasons,
                ConsecutiveFailures = pipeline.ConsecutiveFailures,
                LastSuccess = pipeline.LastSuccess,
                FailingSince = failingSince,
                BufferedCount = pipeline.BufferedCount,
                MaxBufferedEvents = pipeline.IsDurable ? null : pipeline.MaxBuffered,
                IsDurable = pipeline.IsDurable,
                DeadLetterBatchCount = deadLetters,
                DeadLetteredCount = pipeline.DeadLetteredCount,
                DeadLetterDirectory = pipeline.DeadLetterDirectory,
            };
            if (reasons.Count > 0)
            {
                failing.Add($"{pipeline.Name}: {string.Join("; ", reasons)}");
            }
        }

        if (store is not null)
        {
            // Events are refused while the buffer cannot write, whichever exporter they are for.
            string? appendError = store.AppendError?.Message;
            if (appendError is not null)
            {
                failing.Add($"{DurableBufferHealth.Key}: the durable buffer in {store.Directory} cannot write to its disk ({appendError}); new events are refused until a write succeeds");
            }

            // Added events wait in memory for the disk; once their queue is full, new ones are dropped.
            DurableAppender appender = pipelines.Appender!;
            long queued = appender.QueuedCount;
            long bound = appender.QueueBound;
            if (bound > 0 && queued >= options.BufferFullRatio * bound)
            {
                failing.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{DurableBufferHealth.Key}: {queued} added events wait in memory for the durable buffer in {store.Directory} ({Percent(queued, bound)}% of the {bound} it holds){(appender.LastFailure is { } refusal ? $", which refused them: {refusal}" : "")}; new events are dropped once it is full"));
            }

            data[DurableBufferHealth.Key] = new DurableBufferHealth(store.Directory, store.SizeBytes, store.MaxBytes, appendError, queued, appender.DroppedCount, appender.LastFailure);
        }

        return failing.Count == 0
            ? new HealthCheckResult(HealthStatus.Healthy, string.Create(CultureInfo.InvariantCulture, $"{pipelines.Pipelines.Count} exporters writing."), data: data)
            : new HealthCheckResult(failureStatus, string.Join(". ", failing) + ".", data: data);
    }

    /// <summary>A whole percentage, rounded down, so that 89.9% never reads as 90%.</summary>
    private static long Percent(long value, long max) => max <= 0 ? 100 : (long)Math.Floor(100.0 * value / max);
}

using FlagExport.Collector.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Cli;

/// <summary>
/// <c>buffer drop-backlog NAME [--config file.yaml]</c>: the events the durable buffer still holds for exporter NAME,
/// which is no longer configured (start-up refuses to run past them), are set aside as dead letters in
/// <c>deadLetterDirectory</c> and its cursor is removed, so the collector starts again and nothing acknowledged is lost:
/// <c>replay-dead-letters --exporter OTHER</c> writes them later through a configured exporter.
/// </summary>
/// <remarks>Needs the buffer to itself: while a collector holds it, the buffer's lock refuses and nothing changes.</remarks>
internal static class DropBacklogCommand
{
    /// <summary>The parent command's name.</summary>
    public const string Group = "buffer";

    /// <summary>The command's name.</summary>
    public const string Name = "drop-backlog";

    /// <summary>Sets the backlog aside; returns 0 with a summary on <paramref name="output"/>, or 1 with the reason on <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(string[] args, string exporterName, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            WebApplication app = CollectorApp.Build(args, builder => builder.Logging.ClearProviders());
            await using (app.ConfigureAwait(false))
            {
                CollectorSettings settings = app.Services.GetRequiredService<CollectorSettings>();
                if (settings.Exporters.FirstOrDefault(e => string.Equals(e.Name, exporterName, StringComparison.OrdinalIgnoreCase)) is { } configured)
                {
                    await error.WriteLineAsync(
                        $"Exporter '{exporterName}' is configured ({configured.Path}): the collector exports its backlog when it starts. Only the backlog of an exporter removed from the configuration can be set aside.").ConfigureAwait(false);
                    return ExitCodes.StartFailed;
                }

                if (BufferFolder.Of(app.Services).FullPath is not { } buffer)
                {
                    await error.WriteLineAsync("bufferDirectory: is empty or none (memory mode); only a durable buffer keeps a backlog.").ConfigureAwait(false);
                    return ExitCodes.StartFailed;
                }

                string deadLetters = DeadLetterDirectories.TopLevel(app.Configuration);
                long events = await DurableBufferBacklog.DropAsync(buffer, exporterName, deadLetters, cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync(
                    $"Set aside {events} events of exporter '{exporterName}' as dead letters in '{deadLetters}' and removed its cursor; write them with 'replay-dead-letters --exporter <name>'.").ConfigureAwait(false);
                return ExitCodes.Success;
            }
        }
        catch (Exception exception) when (exception is CollectorConfigurationException or OptionsValidationException or AggregateException && StartFailure.Describe(exception) is { } message)
        {
            await error.WriteLineAsync(message).ConfigureAwait(false);
            return ExitCodes.StartFailed;
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"Cannot drop the backlog of exporter '{exporterName}': {exception.Message}").ConfigureAwait(false);
            return ExitCodes.StartFailed;
        }
    }
}

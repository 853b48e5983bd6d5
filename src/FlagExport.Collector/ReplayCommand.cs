using FlagExport.Collector.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FlagExport.Collector;

/// <summary>
/// <c>replay-dead-letters [--config file.yaml] [--exporter NAME]</c>: writes the dead letters of the top-level
/// <c>deadLetterDirectory</c> and of each exporter's own again, each through the exporter that set it aside (or through
/// NAME), with the same configuration as the collector, then exits, naming every folder it read. Run it once the
/// cause is fixed; it listens on no port and leaves the durable buffer alone, so it can run beside the collector.
/// </summary>
internal static class ReplayCommand
{
    /// <summary>The command's name, the first argument.</summary>
    public const string Name = "replay-dead-letters";

    /// <summary>Replays every letter; returns the exit code (0, or 1 with the reason on standard error).</summary>
    /// <param name="args">The host's command line.</param>
    /// <param name="output">Where the summary goes.</param>
    /// <param name="error">Where a failure goes.</param>
    /// <param name="into">
    /// When set, the configured exporter every letter is written through instead of the one that set it aside: how the
    /// letters of a removed exporter (<c>buffer drop-backlog</c>) reach another.
    /// </param>
    /// <param name="cancellationToken">Stops between letters.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, string? into = null, CancellationToken cancellationToken = default)
    {
        WebApplication app = CollectorApp.Build(args, durableBuffer: false);
        await using (app.ConfigureAwait(false))
        {
            CollectorSettings settings = app.Services.GetRequiredService<CollectorSettings>();
            ExporterPipelines pipelines = app.Services.GetRequiredService<ExporterPipelines>();

            // The top-level deadLetterDirectory and each exporter's own; a folder shared by several exporters is
            // replayed once, each letter through the exporter that set it aside (or through the one given).
            IReadOnlyList<string> directories = DeadLetterDirectories.All(app.Services, settings);
            string current = directories[0];
            try
            {
                foreach (string directory in directories)
                {
                    current = directory;
                    int letters = DeadLetters.List(directory).Count;
                    long events = await DeadLetters.ReplayAsync(directory, app.Services, into, cancellationToken).ConfigureAwait(false);
                    await output.WriteLineAsync($"Replayed {letters} dead letters ({events} events) from '{directory}'.").ConfigureAwait(false);
                }

                return 0;
            }
#pragma warning disable CA1031 // The exporter's failure is reported as the command's result; the letters stay.
            catch (Exception exception) when (exception is not OperationCanceledException)
#pragma warning restore CA1031
            {
                int left = DeadLetters.List(current).Count;
                await error.WriteLineAsync($"Replay stopped with {left} dead letters left in '{current}': {exception.Message}").ConfigureAwait(false);
                return 1;
            }
            finally
            {
                await pipelines.ShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}

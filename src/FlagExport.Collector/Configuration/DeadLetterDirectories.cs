using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// The folders the collector's dead letters are written to: the top-level <c>deadLetterDirectory</c> (every exporter's
/// unless an entry sets its own, and where <c>buffer drop-backlog</c> sets a removed exporter's backlog aside), and each
/// exporter's own.
/// </summary>
internal static class DeadLetterDirectories
{
    /// <summary>The top-level key.</summary>
    public const string Key = "deadLetterDirectory";

    /// <summary>The top-level <c>deadLetterDirectory</c>, as a full path (the library's default when it is not set).</summary>
    public static string TopLevel(IConfiguration configuration) =>
        Path.GetFullPath(configuration[Key] ?? DataExporterOptions.DefaultDeadLetterDirectory);

    /// <summary>
    /// Every folder a letter may be in, each once: the top-level one first, then each exporter's own, as bound and
    /// validated. Letters written to the top-level folder while an exporter has its own (a dropped backlog, or a folder
    /// set on the entry later) would otherwise never be replayed.
    /// </summary>
    public static IReadOnlyList<string> All(IServiceProvider services, CollectorSettings settings) =>
        [.. settings.Exporters
            .Select(e => Path.GetFullPath(e.Pipeline(services).DeadLetterDirectory))
            .Prepend(TopLevel(services.GetRequiredService<IConfiguration>()))
            .Distinct(StringComparer.Ordinal)];
}

using System.Collections.Concurrent;
using System.Diagnostics;

namespace FlagExport.Tests.Pipeline.Fakes;

/// <summary>
/// Records the stopped activities of the <c>FlagExport</c> source that belong to one exporter (the source is process-wide:
/// parallel tests' pipelines report there too), and samples every activity of the source named alsoSample too.
/// </summary>
internal sealed class ExportActivityRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly string _exporterName;

    public ExportActivityRecorder(string exporterName, string? alsoSample = null)
    {
        _exporterName = exporterName;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "FlagExport" || source.Name == alsoSample,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.Source.Name == "FlagExport" && activity.GetTagItem("flagexport.exporter") as string == _exporterName)
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The export attempts, in the order they stopped.</summary>
    public IReadOnlyList<Activity> Exports => [.. _stopped.Where(a => a.OperationName == "flagexport.export")];

    /// <summary>The replays, in the order they stopped.</summary>
    public IReadOnlyList<Activity> Replays => [.. _stopped.Where(a => a.OperationName == "flagexport.replay")];

    public void Dispose() => _listener.Dispose();

    /// <summary>The tags of <paramref name="activity"/> as a sorted dictionary, for whole comparisons.</summary>
    public static SortedDictionary<string, object?> Tags(Activity activity) => new(activity.TagObjects.ToDictionary(t => t.Key, t => t.Value), StringComparer.Ordinal);
}

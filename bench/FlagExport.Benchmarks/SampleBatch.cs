using FlagExport;

namespace FlagExport.Benchmarks;

/// <summary>A batch shaped like real evaluations: mostly strings and booleans, some metadata.</summary>
internal static class SampleBatch
{
    public static ExportableEvent[] Create(int count)
    {
        var metadata = FlagObject.Create([new("env", "prod"), new("region", "eu-west-1")]);
        return [.. Enumerable.Range(0, count).Select(i => new FeatureEvent
        {
            ContextKind = i % 3 == 0 ? "anonymousUser" : "user",
            UserKey = "user-" + i,
            CreationDate = 1617970547 + i,
            Key = i % 2 == 0 ? "new-checkout" : "dark-mode",
            Variation = i % 5 == 0 ? "off" : "on",
            Value = i % 4 == 0 ? FlagValue.FromDouble(i * 0.5) : i % 5 != 0,
            Version = "12",
            Source = "SERVER",
            Metadata = i % 10 == 0 ? metadata : null,
        })];
    }
}

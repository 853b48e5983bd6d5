namespace FlagExport.Tests.Exporters;

/// <summary>Feature events with varied fields and unique user keys, as a busy flag service evaluates them.</summary>
internal static class PartTestEvents
{
    public static FeatureEvent[] Create(int count) =>
    [
        .. Enumerable.Range(0, count).Select(i => new FeatureEvent
        {
            ContextKind = i % 3 == 0 ? "anonymousUser" : "user",
            UserKey = $"user-{i * 7919 % 100_003:D6}-{i:D6}",
            CreationDate = 1_700_000_000 + (i / 50),
            Key = $"flag-{i % 23}",
            Variation = (i % 4) switch { 0 => "on", 1 => "off", 2 => "variant-a", _ => "variant-b" },
            Value = i % 5 == 0
                ? FlagValue.FromObject(new Dictionary<string, FlagValue> { ["n"] = i, ["plan"] = i % 2 == 0 ? "pro" : "free" })
                : (FlagValue)(i % 2 == 0),
            Default = i % 11 == 0,
            Version = $"v{i % 3}",
            Source = "SERVER",
        }),
    ];
}

using FlagExport;

namespace FlagExport.Benchmarks;

/// <summary>
/// Evaluations shaped like a real service's, the same in every run (fixed seed): 50 flag keys, 10,000 user keys (UUIDs,
/// as targeting keys usually are), 10% anonymous; values 40% boolean, 30% string, 20% number, 10% a small object;
/// 20% of the events with metadata; 5% defaults.
/// </summary>
internal static class SampleBatch
{
    private const int Seed = 20261201;
    private const int FlagCount = 50;
    private const int UserCount = 10_000;

    public static ExportableEvent[] Create(int count)
    {
        var random = new Random(Seed);
        string[] words = ["checkout", "dark-mode", "search", "pricing", "onboarding", "banner", "recommendations", "beta", "cache", "payments"];
        string[] flags = [.. Enumerable.Range(0, FlagCount).Select(i => $"{words[i % words.Length]}-{(i / words.Length) switch { 0 => "enabled", 1 => "v2", 2 => "experiment", 3 => "rollout", _ => "kill-switch" }}")];
        string[] users = [.. Enumerable.Range(0, UserCount).Select(_ => NewUuid(random))];
        FlagObject[] metadata =
        [
            FlagObject.Create([new("env", "production"), new("region", "eu-west-1")]),
            FlagObject.Create([new("env", "production"), new("region", "us-east-1"), new("evaluationId", "2f9c")]),
        ];
        FlagValue smallObject = FlagValue.FromObject(FlagObject.Create([new("color", "blue"), new("size", 3)]));
        string[] strings = ["variant-a", "variant-b", "control", "blue", "green"];

        var events = new ExportableEvent[count];
        for (int i = 0; i < count; i++)
        {
            int kind = random.Next(10);
            FlagValue value;
            string variation;
            if (kind < 4)
            {
                bool on = random.Next(2) == 0;
                (value, variation) = (on, on ? "on" : "off");
            }
            else if (kind < 7)
            {
                string text = strings[random.Next(strings.Length)];
                (value, variation) = (text, text);
            }
            else if (kind < 9)
            {
                (value, variation) = random.Next(2) == 0
                    ? (FlagValue.FromInteger(random.Next(1, 500)), "limit")
                    : (FlagValue.FromDouble(Math.Round(random.NextDouble() * 100, 2)), "ratio");
            }
            else
            {
                (value, variation) = (smallObject, "theme");
            }

            events[i] = new FeatureEvent
            {
                ContextKind = random.Next(10) == 0 ? "anonymousUser" : "user",
                UserKey = users[random.Next(UserCount)],
                CreationDate = 1764547200 + (i / 100),
                Key = flags[random.Next(FlagCount)],
                Variation = variation,
                Value = value,
                Default = random.Next(20) == 0,
                Version = "v12",
                Source = "SERVER",
                Metadata = random.Next(5) == 0 ? metadata[random.Next(metadata.Length)] : null,
            };
        }

        return events;
    }

    private static string NewUuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes).ToString();
    }
}

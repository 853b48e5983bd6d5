using System.Text.Json.Nodes;

namespace FlagExport.Collector.Tests.Otlp.DotnetClient;

/// <summary>
/// An attribute of a scenario record: its name, the .NET type the application passes it as (which decides the OTLP
/// value type the exporter sends: string, bool, int, double or an array of them), and its value as JSON.
/// </summary>
internal sealed record Tag(string Key, string Type, JsonNode Value)
{
    public static Tag Of(string key, string value) => new(key, "string", JsonValue.Create(value));

    public static Tag Of(string key, bool value) => new(key, "bool", JsonValue.Create(value));

    public static Tag Of(string key, long value) => new(key, "long", JsonValue.Create(value));

    public static Tag Of(string key, double value) => new(key, "double", JsonValue.Create(value));

    public static Tag Of(string key, string[] value) => new(key, "string[]", new JsonArray([.. value.Select(v => (JsonNode?)JsonValue.Create(v))]));

    public static Tag Of(string key, long[] value) => new(key, "long[]", new JsonArray([.. value.Select(v => (JsonNode?)JsonValue.Create(v))]));

    public static Tag Of(string key, double[] value) => new(key, "double[]", new JsonArray([.. value.Select(v => (JsonNode?)JsonValue.Create(v))]));

    public static Tag Of(string key, bool[] value) => new(key, "bool[]", new JsonArray([.. value.Select(v => (JsonNode?)JsonValue.Create(v))]));
}

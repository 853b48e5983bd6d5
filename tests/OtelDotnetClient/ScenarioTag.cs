using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OtelDotnetClient;

/// <summary>An attribute with the .NET type it is given to the SDK as, which decides the OTLP value it is sent as.</summary>
/// <param name="Key">The attribute's name.</param>
/// <param name="Type"><c>string</c>, <c>bool</c>, <c>long</c>, <c>double</c>, or an array of one of them (<c>long[]</c>).</param>
/// <param name="Value">The value, in JSON.</param>
public sealed record ScenarioTag(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("value")] JsonElement Value)
{
    /// <summary>The value as the .NET object an application passes as a log state value or a span event tag.</summary>
    public object ToObject() => Type switch
    {
        "string" => Value.GetString()!,
        "bool" => Value.GetBoolean(),
        "long" => Value.GetInt64(),
        "double" => Value.GetDouble(),
        "string[]" => Value.EnumerateArray().Select(e => e.GetString()!).ToArray(),
        "bool[]" => Value.EnumerateArray().Select(e => e.GetBoolean()).ToArray(),
        "long[]" => Value.EnumerateArray().Select(e => e.GetInt64()).ToArray(),
        "double[]" => Value.EnumerateArray().Select(e => e.GetDouble()).ToArray(),
        _ => throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"attribute {Key}: unknown type '{Type}'")),
    };
}

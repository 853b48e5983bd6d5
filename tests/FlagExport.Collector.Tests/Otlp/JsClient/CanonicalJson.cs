using System.Text.Json;
using System.Text.Json.Nodes;

namespace FlagExport.Collector.Tests.Otlp.JsClient;

/// <summary>
/// JSON text as go-feature-flag's outputs write a value: compact, object keys sorted by ordinal (Go sorts map keys),
/// arrays in order. The expected side of the comparisons; the actual side is the exported bytes as they are.
/// </summary>
public static class CanonicalJson
{
    public static string Write(JsonNode? node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, node);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject properties:
                writer.WriteStartObject();
                foreach (KeyValuePair<string, JsonNode?> property in properties.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Key);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray items:
                writer.WriteStartArray();
                foreach (JsonNode? item in items)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}

using System.Globalization;
using System.Text.Json.Nodes;

namespace FlagExport.Collector.Tests.Otlp.JsClient;

/// <summary>
/// The feature event the collector must write for an <see cref="OtelEvaluation"/>, derived by the mapping rules of
/// FlagExport's OpenTelemetry ingestion (the library's <c>feature_flag.evaluation</c> mapping), and its fields as each
/// output format shows them.
/// </summary>
public sealed record ExpectedFeatureEvent(
    string ContextKind, string UserKey, long CreationDate, string Key, string Variation, JsonNode? Value, bool Default, string Version,
    SortedDictionary<string, JsonNode?> Metadata)
{
    /// <summary>The attributes that have a field of their own; every other one goes into the metadata.</summary>
    private static readonly HashSet<string> FieldAttributes = new(StringComparer.Ordinal)
    {
        "feature_flag.key", "feature_flag.result.variant", "feature_flag.variant", "feature_flag.result.value", "feature_flag.context.id",
        "feature_flag.version",
    };

    /// <summary>
    /// The event for <paramref name="evaluation"/> sent as <paramref name="signal"/> by a service named
    /// <paramref name="serviceName"/>, or null when the evaluation has no <c>feature_flag.key</c> (refused, counted in the
    /// answer's partial success). Every attribute sent without a field of its own is metadata, but the <c>event.name</c>
    /// that marks an older SDK's record.
    /// </summary>
    public static ExpectedFeatureEvent? From(OtelEvaluation evaluation, string signal, string serviceName)
    {
        JsonObject attributes = evaluation.AttributesSent(signal);
        string? key = Text(attributes, "feature_flag.key");
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }

        string? contextId = Text(attributes, "feature_flag.context.id");
        string? reason = Text(attributes, "feature_flag.result.reason") ?? Text(attributes, "feature_flag.evaluation.reason");
        var metadata = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, JsonNode?> attribute in attributes.Where(a => !FieldAttributes.Contains(a.Key) && a.Key != "event.name"))
        {
            metadata[attribute.Key] = attribute.Value?.DeepClone();
        }

        // The resource's service name, unless the record names one itself.
        _ = metadata.TryAdd("service.name", serviceName);
        return new ExpectedFeatureEvent(
            string.IsNullOrEmpty(contextId) ? "anonymousUser" : "user",
            contextId ?? "",
            // The record's time in whole seconds.
            evaluation.TimeUnixMs / 1000,
            key,
            NonEmpty(Text(attributes, "feature_flag.result.variant")) ?? NonEmpty(Text(attributes, "feature_flag.variant")) ?? "SdkDefault",
            attributes["feature_flag.result.value"]?.DeepClone(),
            // An evaluation that failed, or served the caller's default, is one of the default value.
            attributes.ContainsKey("error.type")
                || string.Equals(reason, "default", StringComparison.OrdinalIgnoreCase)
                || string.Equals(reason, "error", StringComparison.OrdinalIgnoreCase),
            Text(attributes, "feature_flag.version") ?? "",
            metadata);
    }

    /// <summary>The JSON line's properties in go-feature-flag's order, each as <c>name=JSON</c>, the metadata's one by one.</summary>
    public string[] JsonFields() =>
    [
        Field("kind", "feature"), Field("contextKind", ContextKind), Field("userKey", UserKey), $"creationDate={CreationDate.ToString(CultureInfo.InvariantCulture)}",
        Field("key", Key), Field("variation", Variation), $"value={CanonicalJson.Write(Value)}", $"default={(Default ? "true" : "false")}",
        Field("version", Version), Field("source", "SERVER"),
        .. Metadata.Select(m => $"metadata.{m.Key}={CanonicalJson.Write(m.Value)}"),
    ];

    /// <summary>The row of go-feature-flag's default CSV template, split at its separators.</summary>
    public string[] CsvFields() =>
    [
        "feature", ContextKind, UserKey, CreationDate.ToString(CultureInfo.InvariantCulture), Key, Variation,
        // Strings as they are, null as nothing, anything else as its JSON.
        Value switch
        {
            null => "",
            JsonValue text when text.TryGetValue(out string? s) => s,
            _ => CanonicalJson.Write(Value),
        },
        Default ? "true" : "false", "SERVER",
    ];

    /// <summary>
    /// The Parquet row's columns as <c>name=value</c>: the value column holds the JSON of the value, the metadata map a
    /// string as it is and the JSON of anything else.
    /// </summary>
    public string[] ParquetFields() =>
    [
        "kind=feature", $"contextKind={ContextKind}", $"userKey={UserKey}", $"creationDate={CreationDate.ToString(CultureInfo.InvariantCulture)}",
        $"key={Key}", $"variation={Variation}", $"value={CanonicalJson.Write(Value)}", $"default={(Default ? "True" : "False")}",
        $"version={Version}", "source=SERVER",
        .. Metadata.Select(m => $"metadata.{m.Key}={(m.Value is JsonValue v && v.TryGetValue(out string? s) ? s : CanonicalJson.Write(m.Value))}"),
    ];

    private static string Field(string name, string value) => $"{name}={CanonicalJson.Write(JsonValue.Create(value))}";

    private static string? Text(JsonObject attributes, string name) =>
        attributes[name] is JsonValue value ? value.TryGetValue(out string? text) ? text : value.ToJsonString() : null;

    private static string? NonEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}

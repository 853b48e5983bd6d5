using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FlagExport.Collector.Tests.Otlp.DotnetClient;

/// <summary>
/// The feature event an emitted record must become, derived by the receiver's mapping rules (the semantic conventions'
/// attributes into go-feature-flag's fields), written as each output format writes it, so that a test compares every
/// field of every row with what the application emitted instead of with a copied output.
/// </summary>
internal static class ExpectedFeatureEvent
{
    public const string EvaluationEvent = "feature_flag.evaluation";
    public const string LegacyEvaluationEvent = "feature_flag";

    /// <summary>The attributes read into fields of their own; every other one goes to the metadata.</summary>
    private static readonly HashSet<string> FieldAttributes = new(StringComparer.Ordinal)
    {
        "feature_flag.key", "feature_flag.result.variant", "feature_flag.variant", "feature_flag.result.value",
        "feature_flag.context.id", "feature_flag.version",
    };

    /// <summary>Go's JSON encoder writes non-ASCII text as it is (and escapes &lt;, &gt; and &amp;, which no scenario holds).</summary>
    private static readonly JsonSerializerOptions GoLikeJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Whether the receiver exports <paramref name="record"/>: a flag evaluation (for logs the event name or the
    /// <c>event.name</c> attribute; for span events also the legacy name) with a <c>feature_flag.key</c>.
    /// </summary>
    public static bool IsExported(ScenarioRecord record, string signal)
    {
        bool evaluation = signal == "logs"
            ? record.Name == EvaluationEvent || record["event.name"]?.GetValue<string>() == EvaluationEvent
            : record.Name is EvaluationEvent or LegacyEvaluationEvent;
        return evaluation && !string.IsNullOrEmpty(record["feature_flag.key"]?.GetValue<string>());
    }

    /// <summary>The JSON line go-feature-flag's exporters write, fields in their order.</summary>
    public static JsonObject Json(ScenarioRecord record)
    {
        string? contextId = Text(record, "feature_flag.context.id");
        return new JsonObject
        {
            ["kind"] = "feature",
            ["contextKind"] = string.IsNullOrEmpty(contextId) ? "anonymousUser" : "user",
            ["userKey"] = contextId ?? "",
            ["creationDate"] = record.TimeUnixNano / 1_000_000_000,
            ["key"] = Text(record, "feature_flag.key"),
            ["variation"] = NonEmpty(Text(record, "feature_flag.result.variant")) ?? NonEmpty(Text(record, "feature_flag.variant")) ?? "SdkDefault",
            ["value"] = record["feature_flag.result.value"]?.DeepClone(),
            ["default"] = IsDefault(record),
            ["version"] = Text(record, "feature_flag.version") ?? "",
            ["source"] = "SERVER",
            ["metadata"] = Metadata(record),
        };
    }

    /// <summary>The CSV line of the tests' template, <see cref="CsvTemplate"/>: strings raw, other values as JSON.</summary>
    public static string Csv(ScenarioRecord record)
    {
        JsonObject json = Json(record);
        return string.Join(';',
            Raw(json["kind"]), Raw(json["contextKind"]), Raw(json["userKey"]), Raw(json["creationDate"]), Raw(json["key"]),
            Raw(json["variation"]), Raw(json["value"]), Raw(json["default"]), Raw(json["version"]), Raw(json["source"]),
            Raw(json["metadata"]));
    }

    /// <summary>Every field of the feature events, separated as <see cref="Csv"/> expects.</summary>
    public const string CsvTemplate =
        "{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};{{ .Variation}};{{ .Value}};{{ .Default}};{{ .Version}};{{ .Source}};{{ .Metadata}}\n";

    /// <summary>
    /// The Parquet row as <see cref="ParquetRow(object?[])"/> writes a DuckDB row: the value column holds the value's
    /// JSON, the metadata map each string as it is and the JSON of anything else.
    /// </summary>
    public static string ParquetRow(ScenarioRecord record)
    {
        JsonObject json = Json(record);
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((string name, JsonNode? value) in json["metadata"]!.AsObject())
        {
            metadata[name] = value is JsonValue text && text.TryGetValue(out string? s) ? s : Serialize(value);
        }

        return Row(
            "feature", (string)json["contextKind"]!, (string)json["userKey"]!, (long)json["creationDate"]!, (string)json["key"]!,
            (string)json["variation"]!, Serialize(json["value"]), (bool)json["default"]!, (string)json["version"]!, "SERVER", metadata);
    }

    /// <summary>
    /// The SQL that reads the rows back in <see cref="ParquetRow(object?[])"/>'s columns, from a file named
    /// <c>{file}</c>.
    /// </summary>
    public const string ParquetQuery = """
        SELECT kind, contextKind, userKey, creationDate, key, variation, value, "default", version, source,
               map_keys(metadata), map_values(metadata)
        FROM read_parquet({file})
        """;

    /// <summary>A row of <see cref="ParquetQuery"/> as text with each value's type, as <see cref="ParquetRow(ScenarioRecord)"/> writes it.</summary>
    public static string ParquetRow(object?[] row)
    {
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((object? key, object? value) in ((System.Collections.IList)row[^2]!).Cast<object?>().Zip(((System.Collections.IList)row[^1]!).Cast<object?>()))
        {
            metadata.Add((string)key!, (string)value!);
        }

        return Row([.. row[..^2], metadata]);
    }

    private static string Row(params object?[] values) => string.Join(" | ", values.Select(v => v switch
    {
        null => "null",
        SortedDictionary<string, string> map => "map{" + string.Join(", ", map.Select(e => $"{e.Key}={e.Value}")) + "}",
        string text => $"'{text}'",
        _ => $"{v.GetType().Name} {Convert.ToString(v, CultureInfo.InvariantCulture)}",
    }));

    /// <summary>
    /// Every attribute without a field of its own but <c>event.name</c> (an older SDK's marker of the event), and the
    /// resource's <c>service.name</c>, sorted by name.
    /// </summary>
    private static JsonObject Metadata(ScenarioRecord record)
    {
        var metadata = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["service.name"] = DotnetOtlpApplication.ServiceName,
        };
        foreach (Tag tag in record.Tags.Where(t => !FieldAttributes.Contains(t.Key) && t.Key != "event.name"))
        {
            metadata[tag.Key] = tag.Value.DeepClone();
        }

        return new JsonObject(metadata);
    }

    /// <summary>The caller's default was served: reason <c>default</c> or <c>error</c> (any case), or an <c>error.type</c>.</summary>
    private static bool IsDefault(ScenarioRecord record)
    {
        string? reason = Text(record, "feature_flag.result.reason") ?? Text(record, "feature_flag.evaluation.reason");
        return record["error.type"] is not null
            || string.Equals(reason, "default", StringComparison.OrdinalIgnoreCase)
            || string.Equals(reason, "error", StringComparison.OrdinalIgnoreCase);
    }

    private static string? Text(ScenarioRecord record, string key) => record[key]?.GetValue<string>();

    private static string? NonEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    /// <summary>A field as a CSV template prints it: a string as it is, no value as nothing, anything else as compact JSON.</summary>
    private static string Raw(JsonNode? node) =>
        node is null ? "" : node is JsonValue value && value.TryGetValue(out string? text) ? text : Serialize(node);

    private static string Serialize(JsonNode? node) => node is null ? "null" : node.ToJsonString(GoLikeJson);
}

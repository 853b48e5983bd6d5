using System.Text.Json.Nodes;

namespace FlagExport.Collector.Tests.Otlp.JsClient;

/// <summary>
/// One <c>feature_flag.evaluation</c> event as the emitter script sends it: its time, its attributes as the SDK gets
/// them, and whether it carries its name the older way (the <c>event.name</c> attribute of a log record, or a span event
/// named <c>feature_flag</c>).
/// </summary>
public sealed record OtelEvaluation(long TimeUnixMs, JsonObject Attributes, bool LegacyEventName = false)
{
    /// <summary>The <c>feature_flag.context.id</c>, which the tests make unique to tell events apart.</summary>
    public string? ContextId => Attributes["feature_flag.context.id"]?.GetValue<string>();

    /// <summary>
    /// The attributes the SDK sends for <paramref name="signal"/>: a log record named the older way carries its name in
    /// the <c>event.name</c> attribute, which the script adds.
    /// </summary>
    public JsonObject AttributesSent(string signal)
    {
        var sent = (JsonObject)Attributes.DeepClone();
        if (LegacyEventName && signal == "logs")
        {
            sent["event.name"] = "feature_flag.evaluation";
        }

        return sent;
    }

    /// <summary>The list as the script reads it from its <c>EVALUATIONS</c> file.</summary>
    public static string ToJson(IEnumerable<OtelEvaluation> evaluations) =>
        new JsonArray([.. evaluations.Select(e => (JsonNode)new JsonObject
        {
            ["timeUnixMs"] = e.TimeUnixMs,
            ["attributes"] = e.Attributes.DeepClone(),
            ["legacyEventName"] = e.LegacyEventName,
        })]).ToJsonString();
}

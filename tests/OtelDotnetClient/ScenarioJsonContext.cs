using System.Text.Json.Serialization;

namespace OtelDotnetClient;

/// <summary>The scenario file and the printed lines, without reflection.</summary>
[JsonSerializable(typeof(ScenarioRecord[]))]
[JsonSerializable(typeof(EmittedRecord))]
internal sealed partial class ScenarioJsonContext : JsonSerializerContext;

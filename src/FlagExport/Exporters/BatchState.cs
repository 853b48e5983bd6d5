using System.Globalization;
using System.Text.Json;

namespace FlagExport;

/// <summary>
/// What a pipeline keeps about one batch across its attempts: identity, position range, attempts made and the names
/// its exporter recorded. <see cref="Persist"/>, when set, writes it to disk (the durable buffer's cursor).
/// </summary>
internal sealed class BatchState
{

    internal BatchState(string id, long firstPosition, long endPosition, Dictionary<string, string>? recorded = null)
    {
        Id = id;
        FirstPosition = firstPosition;
        EndPosition = endPosition;
        Recorded = recorded ?? new Dictionary<string, string>(StringComparer.Ordinal);
    }

    public string Id { get; }

    public long FirstPosition { get; }

    public long EndPosition { get; }

    /// <summary>How many attempts started, including those before a restart.</summary>
    public int Attempts { get; set; }

    /// <summary>When the first attempt failed, or null; <see cref="DataExporterOptions.MaxRetryDuration"/> counts from it.</summary>
    public DateTimeOffset? FirstFailure { get; set; }

    /// <summary>The exporter's records; lock it to read or write.</summary>
    public Dictionary<string, string> Recorded { get; }

    /// <summary>Counts the changes of <see cref="Recorded"/>; read and written under its lock.</summary>
    public long Version { get; set; }

    /// <summary>The <see cref="Version"/> last known on disk: a record is on disk only once it is at least its version.</summary>
    public long PersistedVersion { get; set; }

    /// <summary>Writes this state to disk; null in memory mode.</summary>
    public Func<BatchState, CancellationToken, ValueTask>? Persist { get; set; }

    /// <summary>
    /// A batch of positions <c>[first, end)</c> of a pipeline without durable buffer whose instance prefix is
    /// <paramref name="instance"/> (<see cref="NewInstancePrefix"/>): unique, since two pipeline instances, even of one
    /// name, never share a prefix.
    /// </summary>
    public static BatchState CreateInMemory(string instance, string scope, long firstPosition, long endPosition) =>
        new(FormatId(instance, scope, firstPosition, endPosition), firstPosition, endPosition);

    /// <summary>A random prefix for one pipeline instance's in-memory batch ids.</summary>
    public static string NewInstancePrefix() => Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..16];

    /// <summary>
    /// A short, stable token for the pipeline <paramref name="name"/> in batch identities (FNV-1a of its UTF-16 code
    /// units, in hexadecimal): names can hold characters a header value cannot.
    /// </summary>
    public static string ScopeOf(string name)
    {
        uint hash = 2166136261;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash.ToString("x8", CultureInfo.InvariantCulture);
    }

    /// <summary>Writes <see cref="Recorded"/> as the JSON object <paramref name="propertyName"/> (cursor files, dead-letter manifests).</summary>
    public void WriteRecorded(Utf8JsonWriter json, string propertyName)
    {
        json.WriteStartObject(propertyName);
        lock (Recorded)
        {
            foreach ((string name, string value) in Recorded)
            {
                json.WriteString(name, value);
            }
        }

        json.WriteEndObject();
    }

    /// <summary>Reads what <see cref="WriteRecorded"/> wrote.</summary>
    public static Dictionary<string, string> ReadRecorded(JsonElement recorded)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty property in recorded.EnumerateObject())
        {
            values[property.Name] = property.Value.GetString() ?? "";
        }

        return values;
    }

    /// <summary>A batch made outside a pipeline: an identity no other batch has.</summary>
    public static BatchState CreateUnique(int count) =>
        new(Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture), 0, count);

    /// <summary><c>prefix-scope-first-end</c>, positions in hexadecimal.</summary>
    public static string FormatId(string prefix, string scope, long firstPosition, long endPosition) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{scope}-{firstPosition:x}-{endPosition:x}");
}

using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace FlagExport.Collector.Tests.Otlp.JsClient;

/// <summary>
/// Reads back what a file exporter wrote, in the shapes <see cref="ExpectedFeatureEvent"/> gives: the JSON lines'
/// properties, the CSV rows' fields, the Parquet rows' columns (read by DuckDB, which shares no code with the writer).
/// Files are read in the order they were written.
/// </summary>
public static class ExportedEvents
{
    /// <summary>The properties of each JSON line, as <c>name=raw JSON</c>; the metadata's one by one.</summary>
    public static List<string[]> JsonLines(string folder) =>
        [.. Files(folder).SelectMany(f => File.ReadAllText(f).Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(JsonFields)];

    /// <summary>The fields of each CSV row.</summary>
    public static List<string[]> CsvRows(string folder) =>
        [.. Files(folder).SelectMany(f => File.ReadAllText(f).Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(line => line.Split(';'))];

    /// <summary>The columns of each Parquet row, as <c>name=value</c>; the metadata map's entries one by one, by key.</summary>
    public static List<string[]> ParquetRows(string folder) =>
        [.. Files(folder).Where(f => f.EndsWith(".parquet", StringComparison.Ordinal)).SelectMany(f => DuckDbParquet.Query(File.ReadAllBytes(f), """
            SELECT kind, contextKind, userKey, creationDate, key, variation, value, "default", version, source, map_keys(metadata), map_values(metadata)
            FROM read_parquet({file}, file_row_number = true) ORDER BY file_row_number
            """)).Select(ParquetFields)];

    private static string[] JsonFields(string line)
    {
        using JsonDocument document = JsonDocument.Parse(line);
        var fields = new List<string>();
        foreach (JsonProperty property in document.RootElement.EnumerateObject())
        {
            if (property.Name == "metadata" && property.Value.ValueKind == JsonValueKind.Object)
            {
                fields.AddRange(property.Value.EnumerateObject().Select(m => $"metadata.{m.Name}={m.Value.GetRawText()}"));
            }
            else
            {
                fields.Add($"{property.Name}={property.Value.GetRawText()}");
            }
        }

        return [.. fields];
    }

    private static string[] ParquetFields(object?[] row)
    {
        string[] names = ["kind", "contextKind", "userKey", "creationDate", "key", "variation", "value", "default", "version", "source"];
        var fields = names.Select((name, i) => $"{name}={Convert.ToString(row[i], CultureInfo.InvariantCulture)}").ToList();
        if (row[^2] is IList keys && row[^1] is IList values)
        {
            fields.AddRange(keys.Cast<object?>().Zip(values.Cast<object?>())
                .OrderBy(e => (string)e.First!, StringComparer.Ordinal)
                .Select(e => $"metadata.{e.First}={e.Second}"));
        }

        return [.. fields];
    }

    private static IEnumerable<string> Files(string folder) =>
        !Directory.Exists(folder) ? []
        : new DirectoryInfo(folder).GetFiles().Where(f => !f.Name.StartsWith('.'))
            .OrderBy(f => f.CreationTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal).Select(f => f.FullName);
}

using System.Text.Json;
using FlagExport.Tests.Formats;

namespace FlagExport.Tests.Exporters;

/// <summary>Reads back the events files hold, as their user keys, whatever format each file is in.</summary>
internal static class WrittenEvents
{
    /// <summary>The user keys of every file under <paramref name="folders"/>, decoded by extension.</summary>
    public static List<string> UserKeys(params string[] folders) =>
    [
        .. folders.Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .SelectMany(file => UserKeys(file, File.ReadAllBytes(file))),
    ];

    /// <summary>The user keys of one JSON lines, CSV (any template with the user key) or Parquet file.</summary>
    public static IEnumerable<string> UserKeys(string name, byte[] body)
    {
        if (name.EndsWith(".parquet", StringComparison.Ordinal))
        {
            return body.Length == 0 ? [] : ParquetReaders.ReadWithParquetSharp(body, out _, out _)["userKey"].Select(k => (string)k);
        }

        string[] lines = System.Text.Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return name.EndsWith(".csv", StringComparison.Ordinal)
            ? lines.Select(line => line.Split(';').Single(field => field.StartsWith("user-", StringComparison.Ordinal)))
            : lines.Select(JsonUserKey);
    }

    private static string JsonUserKey(string line)
    {
        using JsonDocument document = JsonDocument.Parse(line);
        return document.RootElement.GetProperty("userKey").GetString()!;
    }
}

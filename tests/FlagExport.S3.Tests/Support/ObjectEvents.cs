using System.IO.Compression;
using System.Text.Json;
using ParquetSharp;
using ZstdSharp;

namespace FlagExport.S3.Tests.Support;

/// <summary>Reads back the events objects hold, as their user keys, whatever format and compression each key names.</summary>
internal static class ObjectEvents
{
    /// <summary>The user keys of every object in <paramref name="bucket"/>.</summary>
    public static List<string> UserKeys(InMemoryS3 s3, string bucket) =>
    [
        .. s3.Keys(bucket).SelectMany(key =>
        {
            Assert.True(s3.TryGet(bucket, key, out byte[] body, out _), key);
            return UserKeys(key, body);
        }),
    ];

    /// <summary>
    /// The user keys of one JSON lines, CSV (any template holding the user key, which starts with <c>user-</c>) or
    /// Parquet object, gzip- or zstd-compressed when its key ends with <c>.gz</c> or <c>.zst</c>.
    /// </summary>
    public static IEnumerable<string> UserKeys(string key, byte[] body)
    {
        if (key.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            using var copy = new MemoryStream();
            gzip.CopyTo(copy);
            return UserKeys(key[..^3], copy.ToArray());
        }

        if (key.EndsWith(".zst", StringComparison.Ordinal))
        {
            using var decompressor = new Decompressor();
            return UserKeys(key[..^4], decompressor.Unwrap(body).ToArray());
        }

        if (key.EndsWith(".parquet", StringComparison.Ordinal))
        {
            return ParquetUserKeys(body);
        }

        string[] lines = System.Text.Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return key.EndsWith(".csv", StringComparison.Ordinal)
            ? [.. lines.Select(line => line.Split(';').Single(field => field.StartsWith("user-", StringComparison.Ordinal)))]
            : [.. lines.Select(JsonUserKey)];
    }

    private static string JsonUserKey(string line)
    {
        using JsonDocument document = JsonDocument.Parse(line);
        return document.RootElement.GetProperty("userKey").GetString()!;
    }

    private static List<string> ParquetUserKeys(byte[] body)
    {
        using var stream = new MemoryStream(body, writable: false);
        using var reader = new ParquetFileReader(stream, leaveOpen: true);
        int column = Enumerable.Range(0, reader.FileMetaData.NumColumns).Single(i => reader.FileMetaData.Schema.Column(i).Name == "userKey");
        var keys = new List<string>();
        for (int g = 0; g < reader.FileMetaData.NumRowGroups; g++)
        {
            using RowGroupReader rowGroup = reader.RowGroup(g);
            using ColumnReader reading = rowGroup.Column(column);
            keys.AddRange(reading.LogicalReader<string>().ReadAll(checked((int)rowGroup.MetaData.NumRows)));
        }

        return keys;
    }
}

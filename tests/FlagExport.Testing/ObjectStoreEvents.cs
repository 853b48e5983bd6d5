namespace FlagExport.Testing;

/// <summary>
/// Events with unique user keys, and the bytes the local file exporter writes for them: what every object-store
/// exporter (S3, Azure Blob) must write byte for byte.
/// </summary>
public static class ObjectStoreEvents
{
    /// <summary>A fixed creation time: 2021-04-09T12:15:47Z.</summary>
    public const long CreationDate = 1617970547;

    public static FeatureEvent[] Create(int count, string tag, long creationDate = CreationDate) =>
    [
        .. Enumerable.Range(0, count).Select(i => new FeatureEvent
        {
            ContextKind = i % 3 == 0 ? "anonymousUser" : "user",
            UserKey = $"{tag}-{i:D7}",
            CreationDate = creationDate,
            Key = $"flag-{i % 17}",
            Variation = i % 2 == 0 ? "on" : "off",
            Value = i % 5 == 0 ? FlagValue.FromObject(new Dictionary<string, FlagValue> { ["n"] = i, ["s"] = "x<y" }) : (FlagValue)(i % 2 == 0),
            Default = i % 11 == 0,
            Version = "v3",
            Source = "SERVER",
        }),
    ];

    /// <summary>What <see cref="FileExporter"/> writes for <paramref name="events"/> with the same file options.</summary>
    public static async Task<byte[]> LocalBytesAsync(ExportFileOptions options, IReadOnlyList<ExportableEvent> events)
    {
        string folder = Path.Combine(Path.GetTempPath(), "flagexport-exporter-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var local = new FileExporter(new FileExporterOptions
            {
                OutputDir = folder,
                Format = options.Format,
                CsvTemplate = options.CsvTemplate,
                ParquetCompressionCodec = options.ParquetCompressionCodec,
                Filename = "local.{{ .Format}}",
            });
            await local.ExportAsync(new ExportBatch(events), TestContext.Current.CancellationToken);
            return await File.ReadAllBytesAsync(Directory.GetFiles(folder).Single(), TestContext.Current.CancellationToken);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

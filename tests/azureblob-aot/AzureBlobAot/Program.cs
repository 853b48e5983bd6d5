// Writes one batch of fixed events in each format through FlagExport.AzureBlob to the container named on the command
// line, with the key from AZURE_STORAGE_KEY (the exporter builds its own client, as an application does), then
// downloads each blob into OUTPUT_DIR. smoke.sh runs it published with Native AOT and as a JIT-compiled build and
// compares the two.
using Azure.Storage;
using Azure.Storage.Blobs;
using FlagExport;
using FlagExport.AzureBlob;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: AzureBlobAot SERVICE_URL ACCOUNT CONTAINER OUTPUT_DIR (the key in AZURE_STORAGE_KEY)");
    return 2;
}

var serviceUrl = new Uri(args[0]);
string account = args[1];
string container = args[2];
string output = args[3];
string key = Environment.GetEnvironmentVariable("AZURE_STORAGE_KEY") ?? "";

FeatureEvent[] events =
[
    new()
    {
        ContextKind = "user", UserKey = "u1", CreationDate = 1733230547, Key = "k", Variation = "on",
        Value = FlagValue.FromObject(new Dictionary<string, FlagValue> { ["a"] = 1, ["s"] = "x<y" }), Version = "v1", Source = "SERVER",
    },
    new() { ContextKind = "anonymousUser", UserKey = "u2", CreationDate = 1733230548, Key = "k", Variation = "off", Value = "é", Default = true },
];

var client = new BlobContainerClient(new Uri(serviceUrl.AbsoluteUri.TrimEnd('/') + "/" + container), new StorageSharedKeyCredential(account, key));
_ = await client.CreateIfNotExistsAsync();
_ = Directory.CreateDirectory(output);
foreach (string format in new[] { "json", "csv", "parquet" })
{
    var options = new AzureBlobExporterOptions
    {
        Container = container, AccountName = account, ServiceUrl = serviceUrl, Format = format, Filename = "aot.{{ .Format}}",
        Path = "dt={{ .Year}}-{{ .Month}}-{{ .Day}}",
    };
    using AzureBlobExporter exporter = await AzureBlobExporter.CreateAsync(options);
    await exporter.ExportAsync(new ExportBatch(events), CancellationToken.None);
    string name = $"dt=2024-12-03/aot.{format}";
    await client.GetBlobClient(name).DownloadToAsync(Path.Combine(output, $"aot.{format}"));
    Console.WriteLine($"wrote {name}");
}

return 0;

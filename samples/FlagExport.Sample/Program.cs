// Generates a few thousand flag evaluations, as an application would, and exports them to ./exports
// in all three formats. Run it with: dotnet run --project samples/FlagExport.Sample
using FlagExport;

string outputDir = args.Length > 0 ? args[0] : "./exports";
string[] formats = ["JSON", "CSV", "Parquet"];
long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

ExportableEvent[] evaluations = [.. Enumerable.Range(0, 5_000).Select(i => new FeatureEvent
{
    ContextKind = i % 3 == 0 ? "anonymousUser" : "user",
    UserKey = $"user-{i % 250}",
    CreationDate = now - (5_000 - i),
    Key = i % 2 == 0 ? "new-checkout" : "dark-mode",
    Variation = i % 5 == 0 ? "off" : "on",
    Value = i % 5 != 0,
    Version = "12",
    Source = "SERVER",
})];

foreach (string format in formats)
{
    var exporter = new FileExporter(new FileExporterOptions { OutputDir = outputDir, Format = format });
    await exporter.ExportAsync(evaluations, CancellationToken.None);
}

foreach (string file in Directory.EnumerateFiles(outputDir).Order())
{
    Console.WriteLine($"{new FileInfo(file).Length,10:N0} bytes  {Path.GetRelativePath(Environment.CurrentDirectory, file)}");
}

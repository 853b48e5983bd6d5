// The hosted setup: three file exporters configured in appsettings.json ("FlagExport" section), fed through
// IFlagEventSink by four threads standing in for request handlers. Stopping the host flushes every exporter.
// Run it from the repository root with: dotnet run --project samples/FlagExport.Sample
using FlagExport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory, // appsettings.json ships next to the binary; ./exports stays relative to where you run it
});
builder.Services.AddFlagExport(export => export
    .AddFileExporter("json")
    .AddFileExporter("csv")
    .AddFileExporter("parquet"));

using IHost host = builder.Build();
await host.StartAsync();

IFlagEventSink events = host.Services.GetRequiredService<IFlagEventSink>();
long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
Parallel.For(0, 5_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => events.Add(new FeatureEvent
{
    ContextKind = i % 3 == 0 ? "anonymousUser" : "user",
    UserKey = $"user-{i % 250}",
    CreationDate = now - (5_000 - i),
    Key = i % 2 == 0 ? "new-checkout" : "dark-mode",
    Variation = i % 5 == 0 ? "off" : "on",
    Value = i % 5 != 0,
    Version = "12",
    Source = "SERVER",
}));

await host.StopAsync(); // flushes what is still buffered

string folder = Path.GetFullPath("./exports");
Console.WriteLine($"Files in {folder}:");
foreach (string file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
{
    Console.WriteLine($"{new FileInfo(file).Length,12:N0} bytes  {Path.GetFileName(file)}");
}

// What an application does with the packages: a hosted pipeline with a file exporter, one event, and the host's stop,
// which flushes it. tests/packages/check.sh runs it and reads the file back.
using System.Reflection;
using FlagExport;
using FlagExport.AzureBlob;
using FlagExport.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Consumer OUTPUT_DIR");
    return 2;
}

HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Services.AddFlagExport(export => export.AddFileExporter("file", file =>
{
    file.OutputDir = args[0];
    file.Filename = "consumer.{{ .Format}}"; // a fixed name, so the script knows which file to read
}));
using (IHost host = builder.Build())
{
    await host.StartAsync();
    host.Services.GetRequiredService<IFlagEventSink>().Add(new FeatureEvent
    {
        ContextKind = "user", UserKey = "consumer-user", CreationDate = 1733230547, Key = "consumer-flag",
        Variation = "on", Value = true, Source = "SERVER",
    });
    await host.StopAsync();
}

// FlagExport.S3 and FlagExport.AzureBlob with their SDKs resolve from the packages: registering an exporter binds the
// types of its signature. The provider is never built, so nothing connects.
IServiceCollection s3 = new ServiceCollection().AddFlagExport(export => export.AddS3Exporter("s3", o => o.Bucket = "consumer-check"));
IServiceCollection blob = new ServiceCollection().AddFlagExport(export => export.AddAzureBlobExporter("blob", o => o.Container = "consumer-check"));
Console.WriteLine(
    $"FlagExport {Version(typeof(FeatureEvent))}, FlagExport.S3 {Version(typeof(S3Exporter))}, FlagExport.AzureBlob {Version(typeof(AzureBlobExporter))}: "
    + $"{s3.Count} and {blob.Count} services registered");
return 0;

static string? Version(Type type) => type.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

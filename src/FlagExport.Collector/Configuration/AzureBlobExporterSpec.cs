using FlagExport.AzureBlob;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// An entry of kind <c>azureBlobStorage</c>, with go-feature-flag's keys (<c>container</c>, <c>accountName</c>,
/// <c>accountKey</c>, <c>path</c>). Credentials come preferably from the environment (see <see cref="AzureBlobExporterOptions"/>).
/// </summary>
internal sealed class AzureBlobExporterSpec : ExporterSpec
{
    public override string Kind => "azureBlobStorage";

    public override void Register(FlagExportBuilder builder) =>
        builder.AddAzureBlobExporter(Name, static o => o.Filename = CollectorSettings.DefaultFilename);

    public override ExportFileOptions FileOptions(IServiceProvider services) => Options(services);

    /// <summary>The exporter's options, as bound and validated.</summary>
    public AzureBlobExporterOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptionsMonitor<AzureBlobExporterOptions>>().Get(Name);

    protected override string Target(IServiceProvider services)
    {
        AzureBlobExporterOptions options = Options(services);
        string account = options.ServiceUrl?.ToString() ?? options.AccountName ?? "the account of AZURE_STORAGE_CONNECTION_STRING";
        return $"container '{options.Container}' path '{options.Path?.Trim('/')}' at {account}";
    }
}

using FlagExport.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Configuration;

/// <summary>An entry of kind <c>s3</c>. Credentials come from the AWS SDK's default chain, never from here.</summary>
internal sealed class S3ExporterSpec : ExporterSpec
{
    public override string Kind => "s3";

    public override void Register(FlagExportBuilder builder) =>
        builder.AddS3Exporter(Name, static o => o.Filename = CollectorSettings.DefaultFilename);

    public override ExportFileOptions? FileOptions(IServiceProvider services) => Options(services);

    /// <summary>The exporter's options, as bound and validated.</summary>
    public S3ExporterOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptionsMonitor<S3ExporterOptions>>().Get(Name);

    protected override string Target(IServiceProvider services)
    {
        S3ExporterOptions options = Options(services);
        return $"s3://{options.Bucket}/{options.S3Path?.Trim('/')}" + (options.ServiceUrl is null ? "" : $" at {options.ServiceUrl}");
    }
}

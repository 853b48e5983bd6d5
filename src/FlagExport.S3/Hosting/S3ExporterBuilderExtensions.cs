using Amazon.S3;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlagExport.S3;

/// <summary>Adds <see cref="S3Exporter"/> pipelines to <c>AddFlagExport</c>.</summary>
public static class S3ExporterBuilderExtensions
{
    /// <summary>The name <see cref="AddS3Exporter"/> uses when none is given.</summary>
    internal const string DefaultName = "s3";

    /// <summary>
    /// Adds a pipeline that writes its batches as objects in an S3 bucket.
    /// </summary>
    /// <param name="builder">The FlagExport builder.</param>
    /// <param name="name">
    /// The exporter's name. Its options, both <see cref="S3ExporterOptions"/> and <see cref="DataExporterOptions"/>, are
    /// read from the configuration section <c>FlagExport:Exporters:&lt;name&gt;</c>. The default value is <c>s3</c>.
    /// </param>
    /// <param name="configure">Sets the S3 options in code; configuration values override them.</param>
    /// <param name="configurePipeline">Sets the pipeline options (flush interval, sizes) in code; configuration values override them.</param>
    /// <param name="s3Client">
    /// Supplies the S3 client, for example <c>sp =&gt; sp.GetRequiredService&lt;IAmazonS3&gt;()</c>; it is not disposed by
    /// the exporter. The default value is <see langword="null"/>: the exporter builds its own client from the options and
    /// the standard AWS sources, and the container disposes it with the exporter.
    /// </param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// Invalid options stop the host at start-up with a message naming the configuration key and the value. A missing
    /// bucket or wrong credentials stop it too, unless <see cref="S3ExporterOptions.VerifyBucketOnStart"/> is turned off.
    /// </remarks>
    /// <example>
    /// <code>
    /// builder.Services.AddFlagExport(export => export
    ///     .AddS3Exporter("s3", s3 => { s3.Bucket = "my-bucket"; s3.S3Path = "flags/dt={{ .Year}}-{{ .Month}}-{{ .Day}}/"; },
    ///         pipeline => pipeline.FlushInterval = TimeSpan.FromMinutes(1)));
    /// </code>
    /// </example>
    public static FlagExportBuilder AddS3Exporter(
        this FlagExportBuilder builder,
        string name = DefaultName,
        Action<S3ExporterOptions>? configure = null,
        Action<DataExporterOptions>? configurePipeline = null,
        Func<IServiceProvider, IAmazonS3>? s3Client = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var descriptor = new ExportFileExporterDescriptor<S3ExporterOptions, S3Exporter>
        {
            BindOptions = static (section, options) => section.Bind(options),
            ValidateOptions = static (options, eventType) => _ = S3Exporter.Check(options, eventType),
            ExporterFactory = (services, options, eventType) => new S3Exporter(
                options,
                s3Client?.Invoke(services),
                eventType,
                services.GetService<TimeProvider>(),
                services.GetService<ILoggerFactory>()?.CreateLogger<S3Exporter>()),
            UnknownKeyMessage = ExplainUnknownKey,
        };
        _ = builder.AddExportFileExporter(name, descriptor, configure, configurePipeline);

        _ = builder.Services.AddSingleton<IHostedService>(services => new S3BucketCheck(name, services));
        return builder;
    }

    // Keys that would carry secrets: refused like any unknown key, with a pointer to where credentials come from.
    private static readonly string[] CredentialKeys =
        ["accessKey", "accessKeyId", "secretKey", "secretAccessKey", "sessionToken", "awsAccessKeyId", "awsSecretAccessKey",
         "awsSessionToken", "secret", "credentials", "password", "token"];

    private static string? ExplainUnknownKey(string key) =>
        CredentialKeys.Contains(key, StringComparer.OrdinalIgnoreCase)
            ? "is not read: credentials never come from the configuration; use the standard AWS sources " +
              "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or an instance or container role)."
            : null;

    /// <summary>Runs <see cref="S3Exporter.VerifyBucketAsync"/> when the host starts, if the exporter's options ask for it.</summary>
    private sealed class S3BucketCheck(string name, IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            services.GetRequiredService<IOptionsMonitor<S3ExporterOptions>>().Get(name).VerifyBucketOnStart
                ? services.GetRequiredKeyedService<S3Exporter>(name).VerifyBucketAsync(cancellationToken)
                : Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

using System.Net;
using FlagExport.AzureBlob;
using FlagExport.Collector.Configuration;
using FlagExport.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Cli;

/// <summary>
/// <c>validate --config file.yaml [--check-connectivity]</c>: reads and checks the configuration with the code start-up
/// runs (<see cref="CollectorApp.Build"/>, which runs the options validation the host runs when it starts), so the messages are
/// the same and every problem is listed at once. It listens on no port, starts no pipeline and opens no durable buffer;
/// it checks that the buffer folder could be created and written (<see cref="BufferFolder.Problem"/>), leaving nothing
/// behind, and reports the folder (or memory mode) after the exporters.
/// </summary>
/// <remarks>
/// <c>--check-connectivity</c> adds what needs the outside world: a HeadBucket for each S3 exporter (the exporter's own
/// <see cref="S3Exporter.VerifyBucketAsync"/>), the container's properties for each Azure Blob exporter
/// (<see cref="AzureBlobExporter.VerifyContainerAsync"/>), a <c>HEAD</c> to each webhook's endpoint, where any HTTP answer
/// counts as reachable and is printed, 401 included (<see cref="WebhookExporter.VerifyEndpointAsync"/>), and, for each file exporter, that <c>outputDir</c> can be created and
/// written (<see cref="OutputFolderCheck"/>, as at start-up), and creates the buffer folder as start-up does. Without it
/// nothing is created and no request is made.
/// </remarks>
internal static class ValidateCommand
{
    /// <summary>The command's name.</summary>
    public const string Name = "validate";

    /// <summary>Checks the configuration; returns 0 with one line per exporter on <paramref name="output"/>, or 1 with the problems on <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(string[] args, bool checkConnectivity, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            // The command prints its own report; the host's console logger would repeat each failure.
            // The durable buffer's options are validated like the others; the buffer itself opens only with the pipelines,
            // which this command never starts.
            WebApplication app = CollectorApp.Build(args, builder => builder.Logging.ClearProviders());
            await using (app.ConfigureAwait(false))
            {
                CollectorSettings settings = app.Services.GetRequiredService<CollectorSettings>();
                var problems = new List<string>();
                var answers = new Dictionary<string, string>(StringComparer.Ordinal); // what each webhook answered the check
                BufferFolder buffer = BufferFolder.Of(app.Services);
                if (buffer.Problem(create: checkConnectivity) is { } bufferProblem)
                {
                    problems.Add(bufferProblem);
                }

                if (checkConnectivity)
                {
                    problems.AddRange(OutputFolderStartupCheck.Problems(settings, app.Services));
                    foreach (S3ExporterSpec s3 in settings.Exporters.OfType<S3ExporterSpec>())
                    {
                        try
                        {
                            await app.Services.GetRequiredKeyedService<S3Exporter>(s3.Name).VerifyBucketAsync(cancellationToken).ConfigureAwait(false);
                        }
                        catch (S3ExportException exception)
                        {
                            problems.Add($"{s3.Path}.bucket: {exception.Message}");
                        }
                    }

                    foreach (AzureBlobExporterSpec blob in settings.Exporters.OfType<AzureBlobExporterSpec>())
                    {
                        try
                        {
                            await app.Services.GetRequiredKeyedService<AzureBlobExporter>(blob.Name).VerifyContainerAsync(cancellationToken).ConfigureAwait(false);
                        }
                        catch (AzureBlobExportException exception)
                        {
                            problems.Add($"{blob.Path}.container: {exception.Message}");
                        }
                    }

                    foreach (WebhookExporterSpec webhook in settings.Exporters.OfType<WebhookExporterSpec>())
                    {
                        try
                        {
                            HttpStatusCode status = await app.Services.GetRequiredKeyedService<WebhookExporter>(webhook.Name).VerifyEndpointAsync(cancellationToken).ConfigureAwait(false);
                            answers[webhook.Name] = $" (reachable: HEAD answered {(int)status} {status})";
                        }
                        catch (WebhookExportException exception)
                        {
                            problems.Add($"{webhook.Path}.endpointUrl: {exception.Message}");
                        }
                    }
                }

                if (problems.Count > 0)
                {
                    await error.WriteLineAsync(new CollectorConfigurationException(problems).Message).ConfigureAwait(false);
                    return ExitCodes.StartFailed;
                }

                string checkedWhat = checkConnectivity ? "configuration and connectivity OK" : "configuration OK";
                await output.WriteLineAsync($"{checkedWhat}: {settings.Exporters.Count} exporter(s)").ConfigureAwait(false);
                foreach (ExporterSpec exporter in settings.Exporters)
                {
                    await output.WriteLineAsync("  " + exporter.Describe(app.Services) + answers.GetValueOrDefault(exporter.Name, "")).ConfigureAwait(false);
                }

                await output.WriteLineAsync("  " + buffer.Describe()).ConfigureAwait(false);

                return ExitCodes.Success;
            }
        }
        catch (Exception exception) when (StartFailure.Describe(exception) is { } message)
        {
            await error.WriteLineAsync(message).ConfigureAwait(false);
            return ExitCodes.StartFailed;
        }
    }
}

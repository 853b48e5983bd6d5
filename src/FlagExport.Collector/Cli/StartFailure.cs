using FlagExport.Collector.Configuration;
using FlagExport.S3;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Cli;

/// <summary>
/// The message for an exception that means the collector cannot start (invalid configuration, an address in use, an
/// unusable bucket); shared by serving and <c>validate</c>, so that both print the same lines for the same problem.
/// </summary>
internal static class StartFailure
{
    /// <summary>The message to print for <paramref name="exception"/>, or null when it is not a start-up failure.</summary>
    /// <param name="exception">What stopped the start-up.</param>
    /// <param name="rename">
    /// Names the entry's key in a failure that names a library key (<see cref="RelayProxyAliases.Rename(string, Microsoft.Extensions.Configuration.IConfiguration)"/>), once the
    /// collector is built; null before.
    /// </param>
    public static string? Describe(Exception exception, Func<string, string>? rename = null) => exception switch
    {
        // verifyEndpointOnStart: the message names the exporter's library key, renamed to the entry's endpointUrl.
        WebhookExportException webhook => $"Cannot start the collector: {rename?.Invoke(webhook.Message) ?? webhook.Message}",
        CollectorConfigurationException configuration => configuration.Message,
        OptionsValidationException options => new CollectorConfigurationException([.. options.Failures]).Message,
        // The host's start-up validation throws one AggregateException when several option types are invalid.
        AggregateException aggregate when aggregate.InnerExceptions.All(e => e is OptionsValidationException) =>
            new CollectorConfigurationException([.. aggregate.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)]).Message,
        // The durable buffer holds events of an exporter no longer configured: the message says which and what to do.
        FlagExport.Durability.OrphanedExporterException or FlagExport.Durability.ExporterTypeChangedException => $"Cannot start the collector: {exception.Message}",
        // Another collector runs with the same bufferDirectory; the message names the folder.
        FlagExport.Durability.DurableBufferLockedException => $"Cannot start the collector: bufferDirectory: {exception.Message}",
        // verifyBucketOnStart / verifyContainerOnStart: a missing bucket or container, wrong credentials or an unreachable endpoint; an address already in use.
        S3ExportException or FlagExport.AzureBlob.AzureBlobExportException or IOException => $"Cannot start the collector: {exception.Message}",
        _ => null,
    };
}

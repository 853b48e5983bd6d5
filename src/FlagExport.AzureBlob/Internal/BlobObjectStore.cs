using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FlagExport.AzureBlob;

/// <summary>
/// One container as an <see cref="IObjectStore"/>: what the <see cref="ObjectStoreWriter"/> asks of Blob Storage, with
/// each failure turned into an <see cref="AzureBlobExportException"/> that names the container, the blob and the reason.
/// </summary>
/// <param name="container">The Blob API on the container.</param>
/// <param name="containerName">The <c>Container</c> option, as messages and logs name it.</param>
/// <param name="logger">Receives the blobs written and the names found taken.</param>
internal sealed class BlobObjectStore(IBlobContainer container, string containerName, ILogger logger) : IObjectStore
{
    /// <summary>The batch record prefix holding, per partition and part, the suffix chosen before its upload.</summary>
    internal const string SuffixRecordPrefix = "azureblob.suffix:";

    private readonly string _containerUri = container.ContainerUri.AbsoluteUri.TrimEnd('/');

    /// <summary>The container's URL and the blob's name: where a written blob is reported.</summary>
    public string Locate(string name) => string.Concat(_containerUri, "/", name);

    /// <summary>The record names the exporter has used since its first release, which recorded batches still hold.</summary>
    public string SuffixRecord(string partition, int part) =>
        string.Create(CultureInfo.InvariantCulture, $"{SuffixRecordPrefix}{part}:{partition}");

    public async Task<bool> TryCreateAsync(ObjectUpload upload, CancellationToken cancellationToken)
    {
        bool written;
        try
        {
            written = await container.TryCreateAsync(
                upload.Name, upload.Content, new BlobContent(upload.ContentType, upload.ContentEncoding), upload.WriteId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = BlobFailureReason.Describe(exception);
            throw new AzureBlobExportException(
                $"Could not write {upload.EventCount} events to blob '{upload.Name}' in container '{containerName}' at {container.ServiceUri}: {reason.Text}.",
                containerName, upload.Name, reason, exception);
        }

        if (written)
        {
            logger.BlobWritten(containerName, upload.Name, upload.EventCount, upload.Content.Length);
        }

        return written;
    }

    /// <remarks>A failure to read the write id fails the export, never the name.</remarks>
    public async Task<string?> ReadWriteIdAsync(ObjectUpload upload, CancellationToken cancellationToken)
    {
        try
        {
            return await container.ReadWriteIdAsync(upload.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = BlobFailureReason.Describe(exception);
            throw new AzureBlobExportException(
                $"Could not write {upload.EventCount} events to blob '{upload.Name}' in container '{containerName}': the name is taken and its write id could not be read: {reason.Text}.",
                containerName, upload.Name, reason, exception);
        }
    }

    public void OnNameTaken(string name) => logger.NameTaken(containerName, name);

    public void OnAlreadyWritten(string name) => logger.AlreadyWritten(containerName, name);
}

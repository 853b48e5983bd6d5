using Microsoft.Extensions.Logging;

namespace FlagExport.AzureBlob;

/// <summary>
/// Source-generated log messages of the Azure Blob exporter. Event ids (200 and up) and names are stable. Messages name
/// the container and blob, never credentials.
/// </summary>
internal static partial class AzureBlobLog
{
    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Blob '{BlobName}' in container '{Container}' exists already (another writer's); trying the next free name.")]
    public static partial void NameTaken(this ILogger logger, string container, string blobName);

    [LoggerMessage(EventId = 203, Level = LogLevel.Debug, Message = "Wrote {EventCount} events ({ByteCount} bytes) to blob '{BlobName}' in container '{Container}'.")]
    public static partial void BlobWritten(this ILogger logger, string container, string blobName, int eventCount, int byteCount);

    [LoggerMessage(EventId = 204, Level = LogLevel.Information, Message = "Container '{Container}' at {ServiceUri} is reachable.")]
    public static partial void ContainerVerified(this ILogger logger, string container, Uri serviceUri);

    [LoggerMessage(EventId = 205, Level = LogLevel.Error, Message = "Container '{Container}' at {ServiceUri} cannot be used: {Reason}.")]
    public static partial void ContainerCheckFailed(this ILogger logger, string container, Uri serviceUri, string reason);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "Blob '{BlobName}' in container '{Container}' was written by an earlier attempt of this batch; not writing it again.")]
    public static partial void AlreadyWritten(this ILogger logger, string container, string blobName);

    [LoggerMessage(EventId = 207, Level = LogLevel.Warning, Message = "The account key of container '{Container}' is read from the configuration; prefer AZURE_STORAGE_KEY, a connection string in AZURE_STORAGE_CONNECTION_STRING, or an Entra ID identity.")]
    public static partial void AccountKeyInConfiguration(this ILogger logger, string container);
}

using System.Runtime.InteropServices;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace FlagExport.AzureBlob;

/// <summary><see cref="IBlobContainer"/> on the Azure SDK's <see cref="BlobContainerClient"/>.</summary>
/// <remarks>
/// Up to <paramref name="transfer"/>'s <see cref="StorageTransferOptions.InitialTransferSize"/> a blob goes in one Put Blob;
/// above it the SDK stages blocks and commits the block list with the same conditions, so <c>If-None-Match: *</c>
/// guards the commit (answered 412 when the name was taken meanwhile).
/// </remarks>
internal sealed class SdkBlobContainer(BlobContainerClient client, StorageTransferOptions transfer) : IBlobContainer
{
    /// <summary>The metadata key that identifies one logical write, so a retry recognises its own earlier blob.</summary>
    /// <remarks>Metadata names are C# identifiers on Azure: no hyphen, unlike S3's <c>flagexport-write-id</c>.</remarks>
    public const string WriteIdMetadataKey = "flagexport_write_id";

    public string Name => client.Name;

    /// <summary>The container's URL without the container: the account's endpoint, whose path names the account on an emulator.</summary>
    public Uri ServiceUri => new(client.Uri.AbsoluteUri[..(client.Uri.AbsoluteUri.TrimEnd('/').LastIndexOf('/') + 1)]);

    public Uri ContainerUri => client.Uri;

    public async Task<bool> TryCreateAsync(
        string blobName, ReadOnlyMemory<byte> content, BlobContent headers, string writeId, CancellationToken cancellationToken)
    {
        if (!MemoryMarshal.TryGetArray(content, out ArraySegment<byte> segment))
        {
            throw new ArgumentException("The content must be backed by an array.", nameof(content));
        }

        var options = new BlobUploadOptions
        {
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            HttpHeaders = new BlobHttpHeaders { ContentType = headers.ContentType, ContentEncoding = headers.ContentEncoding },
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [WriteIdMetadataKey] = writeId },
            TransferOptions = transfer,
        };
        using var stream = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false, publiclyVisible: true);
        try
        {
            _ = await client.GetBlobClient(blobName).UploadAsync(stream, options, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException exception) when (IsTaken(exception))
        {
            return false;
        }
    }

    public async Task<string?> ReadWriteIdAsync(string blobName, CancellationToken cancellationToken)
    {
        try
        {
            Response<BlobProperties> properties = await client.GetBlobClient(blobName).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return properties.Value.Metadata.TryGetValue(WriteIdMetadataKey, out string? id) ? id : null;
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return null;
        }
    }

    public async Task CheckAsync(CancellationToken cancellationToken) =>
        _ = await client.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// If-None-Match: * on an existing blob: 409 BlobAlreadyExists for a single upload, 412 ConditionNotMet for a block
    /// list commit.
    /// </summary>
    internal static bool IsTaken(RequestFailedException exception) =>
        exception.Status == 409 && exception.ErrorCode == BlobErrorCode.BlobAlreadyExists.ToString()
        || exception.Status == 412;
}

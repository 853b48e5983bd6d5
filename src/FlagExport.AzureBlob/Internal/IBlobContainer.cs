namespace FlagExport.AzureBlob;

/// <summary>
/// The part of the Blob API the exporter uses, on one container: create a blob that must not exist yet, read a blob's
/// write id, check the container. <see cref="SdkBlobContainer"/> implements it with the Azure SDK; tests use an in-memory one.
/// </summary>
internal interface IBlobContainer
{
    /// <summary>The container's name.</summary>
    string Name { get; }

    /// <summary>The service endpoint, for messages.</summary>
    Uri ServiceUri { get; }

    /// <summary>The container's own URL, which a blob's name completes: where a written blob is reported.</summary>
    Uri ContainerUri { get; }

    /// <summary>
    /// Creates the blob <paramref name="blobName"/> with <c>If-None-Match: *</c>; false when a blob of that name exists
    /// (nothing was written). Any other failure throws.
    /// </summary>
    Task<bool> TryCreateAsync(string blobName, ReadOnlyMemory<byte> content, BlobContent headers, string writeId, CancellationToken cancellationToken);

    /// <summary>The write id in the metadata of <paramref name="blobName"/>; null when the blob has none or does not exist.</summary>
    Task<string?> ReadWriteIdAsync(string blobName, CancellationToken cancellationToken);

    /// <summary>Reads the container's properties: throws when it does not exist or cannot be reached with these credentials.</summary>
    Task CheckAsync(CancellationToken cancellationToken);
}

/// <summary>The headers that describe a blob's bytes.</summary>
/// <param name="ContentType">The format's media type.</param>
/// <param name="ContentEncoding">The compression's <c>Content-Encoding</c>, or null.</param>
internal readonly record struct BlobContent(string ContentType, string? ContentEncoding);

namespace FlagExport;

/// <summary>One object an <see cref="ObjectStoreWriter"/> asks an <see cref="IObjectStore"/> to create: one part of a batch under one candidate name.</summary>
public sealed class ObjectUpload
{
    internal ObjectUpload(string name, ReadOnlyMemory<byte> content, string contentType, string? contentEncoding, string writeId, int eventCount)
    {
        Name = name;
        Content = content;
        ContentType = contentType;
        ContentEncoding = contentEncoding;
        WriteId = writeId;
        EventCount = eventCount;
    }

    /// <summary>The object's name in the store: the partition's path, the file name with its <c>-N</c> suffix, the compression's extension.</summary>
    public string Name { get; }

    /// <summary>The bytes, in a pooled buffer valid until the call returns (array-backed).</summary>
    public ReadOnlyMemory<byte> Content { get; }

    /// <summary>The format's media type, as the batch recorded it.</summary>
    public string ContentType { get; }

    /// <summary>The compression's <c>Content-Encoding</c> (<c>gzip</c>, <c>zstd</c>), or null for none.</summary>
    public string? ContentEncoding { get; }

    /// <summary>
    /// The batch's <see cref="ExportBatch.Id"/>: stored with the object (metadata) so that a retry of the same batch
    /// recognises its own object under a name it finds taken.
    /// </summary>
    public string WriteId { get; }

    /// <summary>How many events the object holds, for messages.</summary>
    public int EventCount { get; }
}

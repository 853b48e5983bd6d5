namespace FlagExport.AzureBlob;

/// <summary>Options of <see cref="AzureBlobExporter"/>: which container the blobs go to, how they are written, how to reach it.</summary>
/// <remarks>
/// <para>The file options (<see cref="ExportFileOptions.Format"/>, <see cref="ExportFileOptions.Filename"/>,
/// <see cref="ExportFileOptions.CsvTemplate"/>, <see cref="ExportFileOptions.ParquetCompressionCodec"/>,
/// <see cref="ExportFileOptions.MaxBatchBytes"/>) mean what they mean for the file exporter. Values are checked when the
/// exporter is created; a bad value throws an <see cref="ArgumentException"/> that names the option and the value.</para>
/// <para>The connection (used only when the exporter builds its own client) is chosen in this order: <see cref="AccountKey"/>
/// with <see cref="AccountName"/>; the connection string in <c>AZURE_STORAGE_CONNECTION_STRING</c> when neither
/// <see cref="AccountName"/> nor <see cref="ServiceUrl"/> is set; the key in <c>AZURE_STORAGE_KEY</c> with
/// <see cref="AccountName"/>; else <c>DefaultAzureCredential</c> (environment, workload identity, managed identity,
/// Azure CLI…) at <see cref="ServiceUrl"/> or <c>https://&lt;AccountName&gt;.blob.core.windows.net</c>.</para>
/// </remarks>
public sealed class AzureBlobExporterOptions : ExportFileOptions
{
    /// <summary>The default for <see cref="SingleUploadThreshold"/>: 64 MiB, above a default batch.</summary>
    internal const long DefaultSingleUploadThreshold = 64L * 1024 * 1024;

    /// <summary>The default for <see cref="BlockSize"/>: 8 MiB.</summary>
    internal const long DefaultBlockSize = 8L * 1024 * 1024;

    /// <summary>The largest block Blob Storage accepts: 4000 MiB.</summary>
    internal const long MaxBlockSize = 4000L * 1024 * 1024;

    /// <summary>The name of the container the blobs are written to. Required.</summary>
    public string Container { get; set; } = "";

    /// <summary>
    /// The storage account's name. Required unless <see cref="ServiceUrl"/> is set or the connection string comes from
    /// <c>AZURE_STORAGE_CONNECTION_STRING</c>. The default value is <see langword="null"/>.
    /// </summary>
    public string? AccountName { get; set; }

    /// <summary>
    /// The storage account's shared key. Accepted so that go-feature-flag configurations work unchanged; prefer
    /// <c>AZURE_STORAGE_KEY</c>, a connection string in the environment, or an Entra ID identity.
    /// The default value is <see langword="null"/>.
    /// </summary>
    public string? AccountKey { get; set; }

    /// <summary>
    /// The Blob service endpoint, for an emulator (<c>http://127.0.0.1:10000/devstoreaccount1</c>) or a sovereign cloud.
    /// The default value is <see langword="null"/>: <c>https://&lt;AccountName&gt;.blob.core.windows.net</c>.
    /// </summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>
    /// The folder (blob name prefix) the blobs are written under, for example <c>go-feature-flag/variations/</c>. Leading,
    /// trailing and repeated <c>/</c> are ignored. It may hold the date fields <c>{{ .Year}}</c>, <c>{{ .Month}}</c>,
    /// <c>{{ .Day}}</c> and <c>{{ .Hour}}</c> (zero-padded, UTC) of each event's creation time: a batch spanning two
    /// partitions is written as one blob in each. The default value is empty: the root of the container.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// Compresses JSON and CSV blobs: <c>none</c>, <c>gzip</c> or <c>zstd</c>, case-insensitive. The blob gets <c>.gz</c>
    /// or <c>.zst</c> appended to its name and the matching <c>Content-Encoding</c>. Parquet compresses its pages itself:
    /// any value but <c>none</c> is an error there. The default value is <c>none</c>.
    /// </summary>
    public string Compression { get; set; } = "none";

    /// <summary>
    /// Blobs larger than this many bytes (after compression) are uploaded as staged blocks of <see cref="BlockSize"/>,
    /// sent concurrently, then one conditional commit of the block list (<c>If-None-Match: *</c>); smaller ones with one
    /// Put Blob. Blocks of an upload that fails are never committed, and Blob Storage discards uncommitted blocks.
    /// Between 1 MiB and 4000 MiB (the largest single Put Blob is 5000 MiB). The default value is 64 MiB.
    /// </summary>
    public long SingleUploadThreshold { get; set; } = DefaultSingleUploadThreshold;

    /// <summary>The size of each staged block, the last one excepted; between 1 MiB and 4000 MiB. The default value is 8 MiB.</summary>
    public long BlockSize { get; set; } = DefaultBlockSize;

    /// <summary>
    /// <see langword="true"/> to check the container when the exporter starts, so that a missing container or wrong
    /// credentials fail the start-up instead of the first export. Honoured by <see cref="AzureBlobExporter.CreateAsync"/>
    /// and the hosting extension; the constructor makes no request. The default value is <see langword="true"/>.
    /// </summary>
    public bool VerifyContainerOnStart { get; set; } = true;
}

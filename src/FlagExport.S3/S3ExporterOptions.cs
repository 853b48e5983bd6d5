namespace FlagExport.S3;

/// <summary>Options of <see cref="S3Exporter"/>: where in S3 the objects go, how they are written, and how to reach S3.</summary>
/// <remarks>
/// <para>The file options (<see cref="ExportFileOptions.Format"/>, <see cref="ExportFileOptions.Filename"/>,
/// <see cref="ExportFileOptions.CsvTemplate"/>, <see cref="ExportFileOptions.ParquetCompressionCodec"/>) mean what they
/// mean for the file exporter. Every property binds from configuration (strings, numbers, a dictionary for
/// <see cref="Tags"/>). Values are checked when the exporter is created; a bad value throws an
/// <see cref="ArgumentException"/> that names the option and the value.</para>
/// <para>The connection settings (<see cref="Region"/>, <see cref="ServiceUrl"/>, <see cref="ForcePathStyle"/>,
/// <see cref="RequestChecksumCalculation"/>) are used only when the exporter builds its own S3 client; when left unset,
/// the AWS SDK reads them from the standard places (<c>AWS_REGION</c>, <c>AWS_PROFILE</c>,
/// <c>AWS_REQUEST_CHECKSUM_CALCULATION</c>, <c>~/.aws/config</c>, …). Credentials always come from the SDK's default
/// chain: environment variables, profile, container or instance role.</para>
/// </remarks>
public sealed class S3ExporterOptions : ExportFileOptions
{
    /// <summary>
    /// The default for <see cref="MultipartThreshold"/>: 64 MiB, above a default batch (100,000 events are about 25 MB
    /// of JSON lines), which then goes in one request: on the local S3 server one PutObject took 1.2 times a raw
    /// PutObject of the same bytes where four 8 MiB parts took 2.3 times, and a multipart upload is six requests.
    /// </summary>
    internal const long DefaultMultipartThreshold = 64L * 1024 * 1024;

    /// <summary>The default for <see cref="MultipartPartSize"/>: 8 MiB.</summary>
    internal const long DefaultMultipartPartSize = 8L * 1024 * 1024;

    /// <summary>The default for <see cref="MultipartConcurrency"/>.</summary>
    internal const int DefaultMultipartConcurrency = 4;

    /// <summary>The smallest part S3 accepts, except for the last one: 5 MiB.</summary>
    internal const long MinMultipartPartSize = 5L * 1024 * 1024;

    /// <summary>The largest part S3 accepts: 5 GiB.</summary>
    internal const long MaxMultipartPartSize = 5L * 1024 * 1024 * 1024;

    /// <summary>The name of the bucket the objects are written to. Required.</summary>
    public string Bucket { get; set; } = "";

    /// <summary>
    /// The folder (key prefix) the objects are written under, for example <c>go-feature-flag/variations/</c>. Leading,
    /// trailing and repeated <c>/</c> are ignored, so <c>/a//b/</c> writes <c>a/b/name.json</c>. It may hold the date
    /// fields <c>{{ .Year}}</c>, <c>{{ .Month}}</c>, <c>{{ .Day}}</c> and <c>{{ .Hour}}</c> (zero-padded, UTC) taken from
    /// each event's <see cref="ExportableEvent.CreationDate"/>: <c>events/dt={{ .Year}}-{{ .Month}}-{{ .Day}}/</c> gives
    /// Hive-style partitions, and a batch spanning two partitions is written as one object in each.
    /// The default value is empty: objects are written at the root of the bucket.
    /// </summary>
    public string? S3Path { get; set; }

    /// <summary>
    /// The AWS region, for example <c>eu-west-1</c>. With <see cref="ServiceUrl"/> it is the region requests are signed for.
    /// The default value is <see langword="null"/>: the SDK's own resolution (<c>AWS_REGION</c>, the profile).
    /// </summary>
    public string? Region { get; set; }

    /// <summary>
    /// The endpoint of an S3-compatible server (MinIO, Ceph, a VPC endpoint), for example <c>http://127.0.0.1:7480</c>.
    /// The default value is <see langword="null"/>: Amazon S3 in <see cref="Region"/>.
    /// </summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>
    /// <see langword="true"/> to address buckets as <c>endpoint/bucket/key</c> rather than <c>bucket.endpoint/key</c>;
    /// most S3-compatible servers need it. The default value is <see langword="null"/>: <see langword="true"/> when
    /// <see cref="ServiceUrl"/> is set, the SDK's default (virtual-hosted style) otherwise.
    /// </summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>
    /// When the SDK adds a checksum to uploads: <c>WHEN_SUPPORTED</c> or <c>WHEN_REQUIRED</c>, case-insensitive.
    /// The exporter sends its in-memory bodies unchunked, so the checksum goes in a header, which radosgw 16 accepts
    /// (tested); a server that rejects it needs <c>WHEN_REQUIRED</c>. The default value is <see langword="null"/>: the
    /// SDK's own resolution (<c>AWS_REQUEST_CHECKSUM_CALCULATION</c>, the profile, else <c>WHEN_SUPPORTED</c>).
    /// </summary>
    public string? RequestChecksumCalculation { get; set; }

    /// <summary>
    /// The storage class of the objects, for example <c>STANDARD_IA</c> or <c>INTELLIGENT_TIERING</c> (S3-compatible
    /// servers may define their own, such as a Ceph placement's storage class); upper-cased before it is sent. A class the
    /// server does not know fails every upload. The default value is <see langword="null"/>: the bucket's default, <c>STANDARD</c>.
    /// </summary>
    public string? StorageClass { get; set; }

    /// <summary>
    /// Server-side encryption: <c>AES256</c> (S3-managed keys) or <c>aws:kms</c> (with <see cref="SseKmsKeyId"/> or the
    /// account's default KMS key). When the server's answer does not confirm it, the exporter logs a warning
    /// (<c>EncryptionNotConfirmed</c>): radosgw 16 accepts <c>AES256</c> and stores the object unencrypted.
    /// The default value is <see langword="null"/>: the bucket's default encryption.
    /// </summary>
    public string? ServerSideEncryption { get; set; }

    /// <summary>
    /// The KMS key (id, alias or ARN) used when <see cref="ServerSideEncryption"/> is <c>aws:kms</c>; an error otherwise.
    /// radosgw has no default key and needs it. The default value is <see langword="null"/>.
    /// </summary>
    public string? SseKmsKeyId { get; set; }

    /// <summary>
    /// Tags set on every object (at most 10; keys up to 128 characters, values up to 256). A multipart upload also sets
    /// them with PutObjectTagging once complete, because radosgw ignores those of CreateMultipartUpload. The default
    /// value is no tags.
    /// </summary>
    public IDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Compresses JSON and CSV objects: <c>none</c>, <c>gzip</c> or <c>zstd</c>, case-insensitive. The object gets
    /// <c>.gz</c> or <c>.zst</c> appended to its name and the matching <c>Content-Encoding</c>. Parquet compresses its
    /// pages itself (<see cref="ExportFileOptions.ParquetCompressionCodec"/>): any value but <c>none</c> is an error there.
    /// The default value is <c>none</c>.
    /// </summary>
    public string Compression { get; set; } = "none";

    /// <summary>
    /// Objects larger than this many bytes (after compression) are sent as a multipart upload, smaller ones with one
    /// PutObject. Must be at least 5 MiB (5242880), the smallest part S3 accepts.
    /// The default value is 64 MiB.
    /// </summary>
    public long MultipartThreshold { get; set; } = DefaultMultipartThreshold;

    /// <summary>
    /// The size of each part of a multipart upload, the last one excepted; between 5 MiB and 5 GiB.
    /// The default value is 8 MiB.
    /// </summary>
    public long MultipartPartSize { get; set; } = DefaultMultipartPartSize;

    /// <summary>How many parts of one multipart upload are sent at once; between 1 and 64. The default value is 4.</summary>
    public int MultipartConcurrency { get; set; } = DefaultMultipartConcurrency;

    /// <summary>
    /// <see langword="true"/> to check the bucket (HeadBucket) when the exporter starts, so that a missing bucket or wrong
    /// credentials fail the start-up with a clear message instead of the first export. Honoured by
    /// <see cref="S3Exporter.CreateAsync"/> and the hosting extensions; the constructor never makes a request. Set it to
    /// <see langword="false"/> where the bucket may not be reachable yet when the host starts.
    /// The default value is <see langword="true"/>.
    /// </summary>
    public bool VerifyBucketOnStart { get; set; } = true;

    /// <summary>
    /// <see langword="true"/> to send <c>If-None-Match: *</c> with every upload, so that S3 refuses to replace an existing
    /// object (another process that picked the same name) and the exporter picks the next free name (<c>name-1.json</c>).
    /// Amazon S3, Ceph and MinIO support it; turn it off for a server that rejects the header.
    /// The default value is <see langword="true"/>.
    /// </summary>
    public bool ConditionalWrites { get; set; } = true;
}

using Microsoft.AspNetCore.Http.Metadata;

namespace FlagExport.Collector.Ingestion;

/// <summary>The collect endpoint's body limit (maxRequestBodySize), as endpoint metadata.</summary>
/// <remarks>
/// The request decompression middleware runs before the endpoint and limits the decompressed bytes to this metadata's
/// value, or else to Kestrel's default of 30,000,000 bytes; without it a compressed body above that default was refused
/// even when maxRequestBodySize allowed it. Routing also applies it to Kestrel's own limit on the bytes received.
/// </remarks>
internal sealed record RequestSizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;

using System.Globalization;
using System.IO.Compression;
using Grpc.Core;
using Grpc.Net.Compression;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// gzip for gRPC messages (<c>grpc-encoding: gzip</c>, what OTel exporters send), whose decompression stops with
/// RESOURCE_EXHAUSTED past <c>maxRequestBodySize</c>. gRPC's own MaxReceiveMessageSize only bounds the compressed
/// message, and its default providers decompress without a bound: a small message could expand to any size in memory.
/// </summary>
/// <param name="maxBytes">The most bytes a message may decompress to.</param>
internal sealed class LimitedGzipProvider(long maxBytes) : ICompressionProvider
{
    /// <inheritdoc/>
    public string EncodingName => "gzip";

    /// <inheritdoc/>
    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        new GZipStream(stream, compressionLevel ?? CompressionLevel.Fastest, leaveOpen: true);

    /// <inheritdoc/>
    public Stream CreateDecompressionStream(Stream stream) => new LimitedReadStream(new GZipStream(stream, CompressionMode.Decompress), maxBytes);

    /// <summary>Reads <c>inner</c> and fails once more than <c>maxBytes</c> have come out of it.</summary>
    private sealed class LimitedReadStream(Stream inner, long maxBytes) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read = inner.Read(buffer);
            _read += read;

            // The same status and words as gRPC's own check of the compressed size.
            return _read > maxBytes
                ? throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"Received message exceeds the maximum configured message size (maxRequestBodySize = {maxBytes.ToString(CultureInfo.InvariantCulture)} bytes, decompressed)."))
                : read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

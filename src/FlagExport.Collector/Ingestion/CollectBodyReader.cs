using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace FlagExport.Collector.Ingestion;

/// <summary>
/// Reads a collect request's body into a small pooled buffer and parses it as it arrives, so that memory follows the
/// events rather than the JSON text, and enforces the body limit.
/// </summary>
/// <remarks>
/// The buffer holds only what the parser has not consumed yet: usually the start of one event cut by a read. A single
/// value larger than the buffer makes it grow, never beyond the limit. A body found malformed is kept from the error to
/// its end (within the limit), so that the message quotes what a parser of the whole body quotes. A unit cut short is parsed again only once the unread part has doubled,
/// so that a large value costs linear, not quadratic, time. The limit counts the bytes received (for a compressed body,
/// the decompressed bytes), whatever the Content-Length says.
/// </remarks>
internal static class CollectBodyReader
{
    /// <summary>The buffer's first size: 64 KiB, or less for a smaller Content-Length.</summary>
    private const int InitialBufferSize = 64 * 1024;

    /// <summary>Reads and parses the body of <paramref name="request"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="limit">The largest body accepted, in bytes (maxRequestBodySize).</param>
    /// <param name="parser">Parses the body.</param>
    /// <param name="hash">Fed every byte of the body as received (before any UTF-8 repair), when not null: the body hash of an <c>Idempotency-Key</c>.</param>
    /// <param name="cancellationToken">The request's abort token.</param>
    public static async Task<CollectBody> ReadAsync(HttpRequest request, long limit, CollectRequestParser parser, IncrementalHash? hash, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(request.ContentLength ?? InitialBufferSize, InitialBufferSize), limit) + 1);
        int start = 0;      // buffer[..start] is parsed and no longer needed
        int checkedEnd = 0; // buffer[..checkedEnd] is valid UTF-8
        int filled = 0;     // buffer[..filled] holds data
        int waiting = 0;    // bytes the parser left unconsumed last time
        long received = 0;
        string? syntaxError = null;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    MakeRoom(ref buffer, ref start, ref checkedEnd, ref filled, limit, received);
                }

                (int read, CollectBody? refusal) = await ReadSomeAsync(request, buffer.AsMemory(filled), limit, cancellationToken).ConfigureAwait(false);
                if (refusal is { } refused)
                {
                    return refused;
                }

                if (read == 0)
                {
                    break;
                }

                received += read;
                if (received > limit)
                {
                    return TooLarge(limit);
                }

                hash?.AppendData(buffer.AsSpan(filled, read));
                filled += read;
                checkedEnd += CheckUtf8(ref buffer, checkedEnd, ref filled, isFinal: false);
                // Once the JSON is known to be malformed, the rest is only gathered, for the final parse's message.
                if (checkedEnd - start >= 2 * waiting && !parser.MalformedAhead)
                {
                    start += parser.Parse(buffer.AsSpan(start, checkedEnd - start), isFinalBlock: false);
                    waiting = checkedEnd - start;
                }
            }

            if (received == 0)
            {
                return new(null, StatusCodes.Status400BadRequest, "The request body is empty; expected a JSON object such as {\"events\": [...]}.");
            }

            checkedEnd += CheckUtf8(ref buffer, checkedEnd, ref filled, isFinal: true);
            try
            {
                _ = parser.Parse(buffer.AsSpan(start, checkedEnd - start), isFinalBlock: true);
            }
            catch (JsonException exception)
            {
                syntaxError = Describe(exception);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (syntaxError is not null)
        {
            return new(null, StatusCodes.Status400BadRequest, syntaxError);
        }

        return parser.TryComplete(out CollectRequest? parsed, out string? error)
            ? new(parsed, StatusCodes.Status200OK, null)
            : new(null, StatusCodes.Status400BadRequest, error);
    }

    /// <summary>
    /// Reads the whole body, unparsed, into a buffer rented from <paramref name="pool"/> (the caller returns it there),
    /// within the limit, feeding every byte to <paramref name="hash"/> when there is one (a request that must be verified
    /// before it is parsed), or for a body parsed only whole (OTLP protobuf). On a refusal no buffer is returned.
    /// </summary>
    /// <remarks>
    /// The buffer grows with the body as it arrives, doubling from at most <see cref="InitialBufferSize"/>, never ahead of
    /// it: the Content-Length is the sender's claim, and the sender is not verified before the body is read, so a claim
    /// alone must not make the collector hold up to the limit per request.
    /// </remarks>
    public static async Task<(byte[]? Body, int Length, CollectBody Refusal)> ReadWholeAsync(
        HttpRequest request, long limit, IncrementalHash? hash, ArrayPool<byte> pool, CancellationToken cancellationToken)
    {
        byte[] body = pool.Rent((int)Math.Min(Math.Min(request.ContentLength ?? InitialBufferSize, InitialBufferSize), limit) + 1);
        int length = 0;
        while (true)
        {
            if (length == body.Length)
            {
                byte[] larger = pool.Rent((int)Math.Min((long)body.Length * 2, limit + 1));
                body.AsSpan(0, length).CopyTo(larger);
                pool.Return(body);
                body = larger;
            }

            (int read, CollectBody? refusal) = await ReadSomeAsync(request, body.AsMemory(length), limit, cancellationToken).ConfigureAwait(false);
            if (read == 0 && refusal is null)
            {
                return (body, length, default);
            }

            hash?.AppendData(body.AsSpan(length, read));
            length += read;
            if (refusal is not null || length > limit)
            {
                pool.Return(body);
                return (null, 0, refusal ?? TooLarge(limit));
            }
        }
    }

    /// <summary>One read of the body; a body above the limit or one that does not decompress gives a refusal, not an exception.</summary>
    private static async ValueTask<(int Read, CollectBody? Refusal)> ReadSomeAsync(HttpRequest request, Memory<byte> into, long limit, CancellationToken cancellationToken)
    {
        try
        {
            return (await request.Body.ReadAsync(into, cancellationToken).ConfigureAwait(false), null);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (0, TooLarge(limit));
        }
        catch (Exception exception) when (exception is InvalidDataException || (exception is InvalidOperationException && exception.Source?.StartsWith("System.IO.Compression", StringComparison.Ordinal) == true))
        {
            // The decompression middleware reads lazily: a corrupt gzip or deflate body fails here with
            // InvalidDataException, a corrupt br body with InvalidOperationException from BrotliStream.
            return (0, new(null, StatusCodes.Status400BadRequest, NotDecompressed));
        }
    }

    /// <summary>The message of a 400 answer to a body that does not decompress.</summary>
    private const string NotDecompressed = "The request body does not decompress as its Content-Encoding says.";

    /// <summary>A 413 answer naming the limit and its setting.</summary>
    public static CollectBody TooLarge(long limit) =>
        new(null, StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the limit of {limit} bytes (maxRequestBodySize).");

    /// <summary>
    /// Makes room for the next read: drops the parsed bytes from the front of the buffer when they are at least half of
    /// it, otherwise doubles it, but never beyond what the limit can still bring (the body's unparsed bytes plus what
    /// may still arrive, and one byte so that a read can see the body's end).
    /// </summary>
    private static void MakeRoom(ref byte[] buffer, ref int start, ref int checkedEnd, ref int filled, long limit, long received)
    {
        int kept = filled - start;
        long largest = kept + Math.Max(limit - received, 0) + 1;
        byte[] target = buffer;
        if (start < buffer.Length / 2 && buffer.Length < largest) // always so when nothing was parsed: largest > kept
        {
            target = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min((long)buffer.Length * 2, largest), Array.MaxLength));
        }

        buffer.AsSpan(start, kept).CopyTo(target);
        if (!ReferenceEquals(target, buffer))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = target;
        }

        checkedEnd -= start;
        filled = kept;
        start = 0;
    }

    /// <summary>Checks the new bytes from <paramref name="from"/>, replacing invalid UTF-8 in place; returns how many were checked.</summary>
    private static int CheckUtf8(ref byte[] buffer, int from, ref int filled, bool isFinal)
    {
        int length = Utf8Sanitizer.Check(buffer.AsSpan(from, filled - from), isFinal, out byte[]? replaced);
        if (replaced is null)
        {
            return length;
        }

        // Rare: a client sent invalid UTF-8. The replacement may be longer; the unchecked tail (at most 3 bytes) moves after it.
        int tail = filled - from - length;
        int needed = from + replaced.Length + tail;
        byte[] target = needed <= buffer.Length ? buffer : ArrayPool<byte>.Shared.Rent(needed);
        Span<byte> tailBytes = stackalloc byte[3];
        buffer.AsSpan(from + length, tail).CopyTo(tailBytes);
        buffer.AsSpan(0, from).CopyTo(target);
        replaced.CopyTo(target.AsSpan(from));
        tailBytes[..tail].CopyTo(target.AsSpan(from + replaced.Length));
        if (!ReferenceEquals(target, buffer))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = target;
        }

        filled = needed;
        return replaced.Length;
    }

    /// <summary>
    /// The 400 message for a body the reader refused: a nesting deeper than the collector keeps (the durable buffer's
    /// record format and the encoders recurse that deep at most) is named as that limit, not as invalid JSON.
    /// </summary>
    private static string Describe(JsonException exception) =>
        exception.Message.Contains("maximum configured depth", StringComparison.Ordinal)
            ? $"The request body nests JSON deeper than {CollectRequestParser.MaxDepth} levels (counting the body, the events array and the event), the most the collector accepts in an event's value, metadata or context; nothing was accepted."
            : $"The request body is not valid JSON: {exception.Message}";
}

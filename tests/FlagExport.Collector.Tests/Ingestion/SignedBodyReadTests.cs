using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using FlagExport.Collector.Ingestion;
using FlagExport.Collector.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>
/// A request admitted only by its <c>X-Hub-Signature-256</c> is read whole before its signature is checked: the buffer
/// must follow the bytes that arrive, not the Content-Length the unverified sender claims.
/// </summary>
public sealed class SignedBodyReadTests
{
    private const string Secret = "webhook-secret-value";

    [Fact]
    public async Task ClaimedHugeContentLength_WithATinyBody_AllocatesNoLargeBuffer()
    {
        const long Limit = 1L << 30;
        await using TestCollector collector = await TestCollector.StartAsync(new Dictionary<string, string?>
        {
            ["webhookSecret"] = Secret,
            ["maxRequestBodySize"] = $"{Limit}",
        });
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/data/collector")
        {
            Content = new StreamContent(new MemoryStream("{\"events\":[]}"u8.ToArray())),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentLength = Limit - 1; // claimed, never sent
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + new string('0', 64));

        long before = GC.GetTotalAllocatedBytes(precise: true);
        HttpResponseMessage response = await collector.Client.SendAsync(request, TestContext.Current.CancellationToken);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        // Before the fix the claim alone rented a buffer of the claimed size (a gibibyte); other tests running meanwhile
        // allocate far less than this bound.
        Assert.True(allocated < 256L * 1024 * 1024, $"{allocated} bytes allocated for a {13}-byte body claiming {Limit - 1}");
    }

    [Fact]
    public async Task BufferGrowsWithTheBodyAsItArrives_NeverAheadOfIt_AndEveryRentIsReturned()
    {
        const int BodyLength = 1_000_000;
        byte[] content = new byte[BodyLength];
        Random.Shared.NextBytes(content);
        var stream = new TrickleStream(content, chunk: 8_192);
        var pool = new RecordingPool(() => stream.Received);
        var context = new DefaultHttpContext();
        context.Request.Body = stream;
        context.Request.ContentLength = 100L * 1024 * 1024; // claims far more than is sent
        using IncrementalHash hash = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(Secret));

        (byte[]? body, int length, _) = await CollectBodyReader.ReadWholeAsync(context.Request, 128L * 1024 * 1024, hash, pool, TestContext.Current.CancellationToken);

        Assert.NotNull(body);
        Assert.Equal(BodyLength, length);
        Assert.True(content.AsSpan().SequenceEqual(body.AsSpan(0, length)));
        Assert.Equal(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), content), hash.GetHashAndReset());
        // Each rent is at most the first (64 KiB + 1) or twice what had arrived when it was made.
        Assert.All(pool.Rents, rent => Assert.True(rent.Size <= Math.Max((64 * 1024) + 1, 2 * rent.ReceivedBefore), $"rented {rent.Size} after {rent.ReceivedBefore} bytes"));
        pool.Return(body);
        Assert.Equal(0, pool.Outstanding);
    }

    /// <summary>Gives the body a chunk per read and counts what it gave.</summary>
    private sealed class TrickleStream(byte[] content, int chunk) : Stream
    {
        private int _position;

        public int Received { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, chunk), content.Length - _position);
            content.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset, n));
            _position += n;
            Received = _position;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = Math.Min(Math.Min(buffer.Length, chunk), content.Length - _position);
            content.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            Received = _position;
            return ValueTask.FromResult(n);
        }

        public override void Flush() => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Rents exact sizes and records each with the bytes received before it.</summary>
    private sealed class RecordingPool(Func<int> received) : ArrayPool<byte>
    {
        private int _outstanding;

        public List<(int Size, int ReceivedBefore)> Rents { get; } = [];

        public int Outstanding => _outstanding;

        public override byte[] Rent(int minimumLength)
        {
            Rents.Add((minimumLength, received()));
            _outstanding++;
            return new byte[minimumLength];
        }

        public override void Return(byte[] array, bool clearArray = false) => _outstanding--;
    }
}

using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace FlagExport.Collector.Security;

/// <summary>
/// Checks the signature go-feature-flag's webhook exporter puts on what it posts when it has a secret:
/// <c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>.
/// </summary>
/// <remarks>
/// The body is hashed as it is read, before it is parsed; the comparison takes the same time
/// whatever the bytes (<see cref="CryptographicOperations.FixedTimeEquals"/>). The secret is never logged.
/// </remarks>
internal sealed class WebhookSignature(string secret)
{
    /// <summary>The header carrying the signature.</summary>
    public const string Header = WebhookSigning.Header;

    private const string Prefix = WebhookSigning.Prefix;

    private readonly byte[] _key = Encoding.UTF8.GetBytes(secret);

    /// <summary>
    /// The signature the request claims, or <see langword="null"/> when it has none or one that is not
    /// <c>sha256=</c> and 64 hex digits.
    /// </summary>
    public static byte[]? Claimed(HttpRequest request)
    {
        string? header = request.Headers[Header];
        if (header is null || header.Length != WebhookSigning.ValueLength
            || !header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        byte[] claimed = new byte[SHA256.HashSizeInBytes];
        return Convert.FromHexString(header.AsSpan(Prefix.Length), claimed, out _, out int written) == OperationStatus.Done
            && written == claimed.Length ? claimed : null;
    }

    /// <summary>A hash to feed the body to.</summary>
    public IncrementalHash Start() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);

    /// <summary>Whether the body fed to <paramref name="hash"/> has the <paramref name="claimed"/> signature.</summary>
    public static bool Matches(IncrementalHash hash, byte[] claimed)
    {
        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        _ = hash.GetHashAndReset(actual);
        return CryptographicOperations.FixedTimeEquals(actual, claimed);
    }
}

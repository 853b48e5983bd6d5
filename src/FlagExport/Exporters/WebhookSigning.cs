using System.Security.Cryptography;

namespace FlagExport;

/// <summary>
/// The signature go-feature-flag's webhook exporter puts on a body when it has a secret:
/// <c>X-Hub-Signature-256: sha256=&lt;lower-case hex HMAC-SHA256 of the body&gt;</c>. The exporter writes it, the
/// collector checks it; both read the wire format from here.
/// </summary>
internal static class WebhookSigning
{
    /// <summary>The header carrying the signature.</summary>
    public const string Header = "X-Hub-Signature-256";

    /// <summary>What the header's value starts with, before the hex digits.</summary>
    public const string Prefix = "sha256=";

    /// <summary>The length of a header value: the prefix and two hex digits per byte of the hash.</summary>
    public const int ValueLength = 7 + (2 * HMACSHA256.HashSizeInBytes);

    /// <summary>The header's value for <paramref name="body"/> signed with <paramref name="key"/>.</summary>
    public static string Sign(ReadOnlySpan<byte> key, ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        _ = HMACSHA256.HashData(key, body, hash);
        return Prefix + Convert.ToHexStringLower(hash);
    }
}

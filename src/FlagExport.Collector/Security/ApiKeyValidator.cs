using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace FlagExport.Collector.Security;

/// <summary>
/// Checks the API key of a request as go-feature-flag's relay proxy does: <c>X-API-Key: &lt;key&gt;</c> when that header
/// is present, otherwise <c>Authorization: Bearer &lt;key&gt;</c>. With no key configured, every request is allowed.
/// </summary>
/// <remarks>
/// Only SHA-256 hashes of the keys are kept. A presented key is hashed and compared with every configured hash using
/// <see cref="CryptographicOperations.FixedTimeEquals"/>, without stopping at the first match, so the time taken tells
/// nothing about the keys. Keys are never logged.
/// </remarks>
internal sealed class ApiKeyValidator
{
    /// <summary>The relay proxy's header for API keys.</summary>
    public const string ApiKeyHeader = "X-API-Key";

    private const string BearerScheme = "Bearer";

    private readonly byte[][] _hashes;

    /// <summary>Keeps the hashes of the keys.</summary>
    /// <param name="keys">The keys that make a key required, and are accepted.</param>
    /// <param name="adminKeys">Keys accepted too, which alone do not make a key required (the relay proxy's admin keys).</param>
    public ApiKeyValidator(IEnumerable<string> keys, IEnumerable<string>? adminKeys = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        string[] required = [.. keys];
        IsRequired = required.Length > 0;
        _hashes = [.. required.Concat(adminKeys ?? []).Select(key => SHA256.HashData(Encoding.UTF8.GetBytes(key)))];
    }

    /// <summary><see langword="true"/> when at least one key is configured, so requests must present one.</summary>
    public bool IsRequired { get; }

    /// <summary><see langword="true"/> when no key is required or the request presents a configured one.</summary>
    public bool IsAuthorized(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!IsRequired)
        {
            return true;
        }

        return Presented(request) is { } key && Matches(key);
    }

    /// <summary>The key <paramref name="request"/> presents (<c>X-API-Key</c> first, then <c>Authorization: Bearer</c>), checked or not; null when none.</summary>
    public static string? Presented(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? apiKey = request.Headers[ApiKeyHeader];
        if (!string.IsNullOrEmpty(apiKey))
        {
            return apiKey;
        }

        string? authorization = request.Headers.Authorization;
        if (authorization is null || authorization.Length <= BearerScheme.Length + 1
            || !authorization.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase)
            || authorization[BearerScheme.Length] != ' ')
        {
            return null;
        }

        return authorization[(BearerScheme.Length + 1)..].Trim();
    }

    private bool Matches(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        _ = SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        bool found = false;
        foreach (byte[] candidate in _hashes)
        {
            found |= CryptographicOperations.FixedTimeEquals(hash, candidate);
        }

        return found;
    }
}

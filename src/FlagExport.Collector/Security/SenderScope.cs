using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace FlagExport.Collector.Security;

/// <summary>
/// Who sent an admitted request, as the scope of its <c>Idempotency-Key</c>: the SHA-256 of the credential that admitted
/// it (the API key presented, or <c>webhookSecret</c> for a request admitted by its signature), or of "anonymous" when
/// the collector asks for none. Two senders never share keys, and a sender cannot probe another's keys.
/// </summary>
/// <remarks>
/// Each credential is hashed with a label of its kind, so that an API key equal to the webhook secret is still another
/// scope. Only the hash is kept (in memory, in the buffer's key records): never the credential. Computed only for
/// requests that carry a key.
/// </remarks>
internal sealed class SenderScope(ApiKeyValidator apiKeys, string? webhookSecret)
{
    private readonly string _anonymous = Hash("anonymous", "");
    private readonly string? _webhook = webhookSecret is null ? null : Hash("webhook-secret", webhookSecret);

    /// <summary>The scope of <paramref name="request"/>, already admitted (by its signature when <paramref name="bySignature"/>).</summary>
    public string Of(HttpRequest request, bool bySignature)
    {
        if (bySignature)
        {
            return _webhook!;
        }

        return apiKeys.IsRequired && ApiKeyValidator.Presented(request) is { } key ? Hash("api-key", key) : _anonymous;
    }

    /// <summary>64 lowercase hex digits of SHA-256 over the label, a newline and the credential.</summary>
    private static string Hash(string label, string credential) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(label + "\n" + credential)));
}

using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <content>
/// <c>relayProxyUrl</c>: the go-feature-flag relay proxy that answers every relay-proxy route but
/// <c>/v1/data/collector</c>, so that a provider's single endpoint can point at the collector.
/// </content>
internal sealed partial class CollectorSettings
{
    /// <summary>The top-level key read here.</summary>
    internal const string RelayProxyUrlKey = "relayProxyUrl";

    /// <summary>
    /// <c>relayProxyUrl</c>: an absolute http or https URL, without user information, query or fragment; a path is kept
    /// as a prefix of every forwarded path. <see langword="null"/> when not set: the relay-proxy routes answer 404.
    /// </summary>
    public Uri? RelayProxyUrl { get; private init; }

    /// <summary>The relay proxy's address, or null when missing or invalid (then an error naming the key and the value is added).</summary>
    private static Uri? ReadRelayProxyUrl(IConfiguration configuration, List<string> errors)
    {
        string? text = configuration[RelayProxyUrlKey];
        if (text is null)
        {
            return null;
        }

        // On Unix "/v1" parses as an absolute file URL: a relay proxy's address always spells its scheme and "//".
        string? problem = !Uri.TryCreate(text, UriKind.Absolute, out Uri? url) || !text.Contains("://", StringComparison.Ordinal) ? "is not an absolute URL"
            : url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps ? $"has the scheme '{url.Scheme}'; only http and https are forwarded"
            : url.UserInfo.Length > 0 ? "holds user information; API keys pass through from the providers' requests instead"
            : url.Query.Length > 0 || url.Fragment.Length > 0 ? "has a query or a fragment; only a path can prefix the forwarded paths"
            : null;
        if (problem is not null)
        {
            // A URL with user information could hold a password: name the key, never echo the value.
            string shown = url is { UserInfo.Length: > 0 } ? "(not shown)" : $"'{text}'";
            errors.Add($"{RelayProxyUrlKey}: {shown} {problem}; give the relay proxy's address, such as http://127.0.0.1:1031.");
            return null;
        }

        return url;
    }
}

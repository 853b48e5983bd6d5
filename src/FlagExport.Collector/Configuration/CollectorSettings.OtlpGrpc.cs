using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <content>
/// <c>otlpGrpcUrls</c>: the cleartext HTTP/2 addresses of the OTLP/gRPC receiver. Kestrel does not speak cleartext
/// HTTP/2 on an endpoint that also speaks HTTP/1.1, so gRPC needs addresses of its own beside the main one.
/// </content>
internal sealed partial class CollectorSettings
{
    /// <summary>
    /// The addresses from <c>otlpGrpcUrls</c> (one URL, or several separated by ';' as in <c>ASPNETCORE_URLS</c>);
    /// empty when not set: the OTLP/gRPC services are off.
    /// </summary>
    public IReadOnlyList<OtlpGrpcAddress> OtlpGrpcUrls { get; private init; } = [];

    /// <summary>The addresses, or none when one is invalid (then an error naming the key and the value is added).</summary>
    private static List<OtlpGrpcAddress> ReadOtlpGrpcUrls(IConfiguration configuration, List<string> errors)
    {
        var addresses = new List<OtlpGrpcAddress>();
        string? text = configuration[OtlpGrpcAddress.Key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return addresses;
        }

        bool valid = true;
        foreach (string url in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (OtlpGrpcAddress.Parse(url, out string? problem) is { } address)
            {
                addresses.Add(address);
            }
            else
            {
                errors.Add($"{OtlpGrpcAddress.Key}: '{url}' {problem}.");
                valid = false;
            }
        }

        return valid ? addresses : [];
    }
}

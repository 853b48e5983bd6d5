using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace FlagExport.S3;

/// <summary>Builds the S3 client of an exporter that was not given one, from its options and the standard AWS sources.</summary>
internal static class S3ClientFactory
{
    /// <summary>Checks the connection options; called whether or not a client is built, so that typos always fail.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public static RequestChecksumCalculation? ParseChecksumCalculation(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return value.Trim().ToUpperInvariant() switch
        {
            "WHEN_SUPPORTED" => RequestChecksumCalculation.WHEN_SUPPORTED,
            "WHEN_REQUIRED" => RequestChecksumCalculation.WHEN_REQUIRED,
            _ => throw S3ExportSettings.InvalidOption(
                $"RequestChecksumCalculation '{value}' is not valid; valid values are WHEN_SUPPORTED and WHEN_REQUIRED (case-insensitive).",
                nameof(S3ExporterOptions.RequestChecksumCalculation)),
        };
    }

    /// <summary>Checks <see cref="S3ExporterOptions.ServiceUrl"/> and <see cref="S3ExporterOptions.Region"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public static void ValidateEndpoint(S3ExporterOptions options)
    {
        if (options.ServiceUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            throw S3ExportSettings.InvalidOption($"ServiceUrl '{url}' must be an absolute http:// or https:// URL.", nameof(options.ServiceUrl));
        }

        if (options.Region is { } region && (region.Trim().Length == 0 || !region.Trim().All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw S3ExportSettings.InvalidOption($"Region '{region}' is not a region name such as us-east-1.", nameof(options.Region));
        }
    }

    /// <summary>
    /// A client for <paramref name="options"/>: credentials from the SDK's default chain (environment variables,
    /// <c>AWS_PROFILE</c> and the shared files, container and instance roles), region and checksum behaviour from the
    /// options when set, else from the same standard sources.
    /// </summary>
    public static AmazonS3Client Create(S3ExporterOptions options)
    {
        var config = new AmazonS3Config();
        string? region = string.IsNullOrWhiteSpace(options.Region) ? null : options.Region.Trim();
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url.ToString();
            if (region is not null)
            {
                config.AuthenticationRegion = region; // ServiceURL and RegionEndpoint exclude each other: sign for the region
            }
        }
        else if (region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        config.ForcePathStyle = options.ForcePathStyle ?? options.ServiceUrl is not null;
        if (ParseChecksumCalculation(options.RequestChecksumCalculation) is { } checksum)
        {
            config.RequestChecksumCalculation = checksum;
        }

        try
        {
            return new AmazonS3Client(config);
        }
        catch (AmazonClientException exception) when (options.ServiceUrl is null && region is null)
        {
            throw S3ExportSettings.InvalidOption(
                $"Region is not set and the AWS SDK found none ({exception.Message}): set Region, AWS_REGION or a region in the AWS profile, or ServiceUrl for an S3-compatible server.",
                nameof(options.Region));
        }
    }
}

using System.Globalization;
using FlagExport.S3;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <summary>Reading an <c>exporters</c> entry of kind <c>s3</c>.</summary>
internal sealed partial class CollectorSettings
{
    private static S3ExporterSpec ReadS3(IConfigurationSection section, string path, string name, PipelineSettings pipeline, List<string> errors)
    {
        var options = new S3ExporterOptions
        {
            Bucket = section["bucket"] ?? "",
            S3Path = section["path"],
            Region = section["region"],
            StorageClass = section["storageClass"],
            Compression = section["compression"] ?? "none",
            RequestChecksumCalculation = section["requestChecksumCalculation"],
            ServerSideEncryption = section["serverSideEncryption"],
            SseKmsKeyId = section["sseKmsKeyId"],
        };
        ReadFileOptions(section, options);

        if (section["serviceUrl"] is { } url)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out Uri? serviceUrl))
            {
                options.ServiceUrl = serviceUrl;
            }
            else
            {
                errors.Add($"{path}.serviceUrl: '{url}' is not an absolute URL such as http://127.0.0.1:7480.");
            }
        }

        options.ForcePathStyle = ReadBoolean(section, "forcePathStyle", path, errors);
        options.VerifyBucketOnStart = ReadBoolean(section, "verifyBucketOnStart", path, errors) ?? options.VerifyBucketOnStart;
        options.ConditionalWrites = ReadBoolean(section, "conditionalWrites", path, errors) ?? options.ConditionalWrites;
        options.MultipartThreshold = ReadInteger(section, "multipartThreshold", path, errors) ?? options.MultipartThreshold;
        options.MultipartPartSize = ReadInteger(section, "multipartPartSize", path, errors) ?? options.MultipartPartSize;
        options.MultipartConcurrency = (int)Math.Clamp(ReadInteger(section, "multipartConcurrency", path, errors) ?? options.MultipartConcurrency, int.MinValue, int.MaxValue);
        foreach (IConfigurationSection tag in section.GetSection("tags").GetChildren())
        {
            options.Tags[tag.Key] = tag.Value ?? "";
        }

        if (string.IsNullOrWhiteSpace(options.Bucket))
        {
            errors.Add($"{path}.bucket: is required for kind 's3': the name of the bucket to write to.");
        }
        else
        {
            // The exporter's own check, the one its constructor runs, without building a client.
            Check(path, errors, () => _ = S3Exporter.Check(options, pipeline.EventType));
        }

        return new S3ExporterSpec { Name = name, Path = path, Pipeline = pipeline, Options = options };
    }

    private static bool? ReadBoolean(IConfigurationSection section, string key, string path, List<string> errors)
    {
        if (section[key] is not { } text)
        {
            return null;
        }

        if (bool.TryParse(text, out bool value))
        {
            return value;
        }

        errors.Add($"{path}.{key}: must be true or false; got '{text}'.");
        return null;
    }

    private static long? ReadInteger(IConfigurationSection section, string key, string path, List<string> errors)
    {
        if (section[key] is not { } text)
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            return value;
        }

        errors.Add($"{path}.{key}: must be a whole number; got '{text}'.");
        return null;
    }
}

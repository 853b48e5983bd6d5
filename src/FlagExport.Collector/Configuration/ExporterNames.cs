using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// The names of the exporters of the <c>exporters</c> list. A name is an exporter's identity: its configuration key
/// (<c>FlagExport:Exporters:&lt;name&gt;</c>), metric and log tag, the owner of its dead letters and of its durable-buffer
/// cursor. It must therefore not change when the list is edited: it is the entry's <c>name</c>, or else derived from what
/// the exporter writes to, never from the entry's position.
/// </summary>
internal static class ExporterNames
{
    /// <summary>The longest name accepted.</summary>
    public const int MaxLength = 64;

    /// <summary>The characters of the readable part of a derived name; the hash keeps destinations apart.</summary>
    private const int SlugLength = 40;

    /// <summary>Whether <paramref name="name"/> is an acceptable exporter name.</summary>
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= MaxLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>The problem with <paramref name="name"/>, written as <paramref name="key"/>, or null when it is valid.</summary>
    public static string? Problem(string key, string name) => IsValid(name)
        ? null
        : string.Create(CultureInfo.InvariantCulture,
            $"{key}: '{name}' is not a valid exporter name; use 1 to {MaxLength} letters, digits, '-', '_' or '.'.");

    /// <summary>
    /// What the exporter of <paramref name="section"/> writes to: <c>file:&lt;outputDir, full path&gt;</c>,
    /// <c>s3:&lt;bucket&gt;/&lt;path prefix&gt;</c>, <c>azureBlobStorage:&lt;account&gt;/&lt;container&gt;/&lt;path prefix&gt;</c> or
    /// <c>webhook:&lt;endpointUrl without credentials or query&gt;</c>, from the entry's keys as written (library defaults where absent). For
    /// an exporter of tracking events the kind is followed by <c>+tracking</c> (<c>file+tracking:...</c>): a feature and
    /// a tracking exporter may write to one folder (their file names differ), and feature exporters keep the names
    /// derived before the event type counted.
    /// </summary>
    public static string Destination(string kind, IConfigurationSection? section)
    {
        // Parsed as the options binder parses DataExporterOptions.EventType.
        string typed = Enum.TryParse(section?["eventType"], ignoreCase: true, out EventType type) && type == EventType.Tracking
            ? kind + "+tracking"
            : kind;
        if (kind == "webhook")
        {
            // Without credentials or query, which may hold a token: the name appears in logs and metrics.
            string url = section?[nameof(WebhookExporterOptions.EndpointUrl)] ?? "";
            return $"{typed}:{(Uri.TryCreate(url, UriKind.Absolute, out Uri? endpoint) ? WebhookExporter.LocationOf(endpoint) : url)}";
        }

        if (kind == "azureBlobStorage")
        {
            string prefix = (section?["path"] ?? "").Trim('/');
            return $"{typed}:{section?["accountName"] ?? section?["serviceUrl"] ?? ""}/{section?["container"] ?? ""}/{prefix}";
        }

        if (kind == "s3")
        {
            string prefix = (section?["path"] ?? "").Trim('/');
            return $"{typed}:{section?["bucket"] ?? ""}/{prefix}";
        }

        string directory = section?[nameof(FileExporterOptions.OutputDir)] ?? FileExporterOptions.DefaultOutputDir;
        try
        {
            return typed + ":" + Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        }
        catch (ArgumentException)
        {
            return typed + ":" + directory; // not a path (empty, a NUL): the options validator names the key; any name will do until then
        }
    }

    /// <summary>
    /// The name of an exporter writing to <paramref name="destination"/> (see <see cref="Destination"/>): its kind and the
    /// end of its destination made readable, then 8 hexadecimal digits of its SHA-256, such as
    /// <c>file-var-flags-exports-1a2b3c4d</c> (<c>file-tracking-var-flags-exports-5e6f7a8b</c> for tracking events). Equal
    /// destinations give equal names, distinct ones distinct names.
    /// </summary>
    public static string Derive(string destination)
    {
        int colon = destination.IndexOf(':', StringComparison.Ordinal);
        string kind = destination[..colon].Replace('+', '-'); // file+tracking: '+' is not a name character
        var slug = new StringBuilder();
        bool dash = false;
        foreach (char c in destination[(colon + 1)..])
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                _ = slug.Append(char.ToLowerInvariant(c));
                dash = false;
            }
            else if (!dash && slug.Length > 0)
            {
                _ = slug.Append('-');
                dash = true;
            }
        }

        string readable = slug.ToString().Trim('-');
        if (readable.Length > SlugLength)
        {
            // The end of a path says most: the folder, not the root it is under.
            readable = readable[^SlugLength..].TrimStart('-');
        }

        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(destination)))[..8];
        return readable.Length == 0 ? $"{kind}-{hash}" : $"{kind}-{readable}-{hash}";
    }
}

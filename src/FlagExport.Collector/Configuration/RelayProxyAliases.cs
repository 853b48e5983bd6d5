using System.Globalization;
using FlagExport.AzureBlob;
using FlagExport.S3;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// The relay proxy's exporter keys as aliases of FlagExport's own options: <c>exporters[N].&lt;key&gt;</c> (and the
/// single <c>exporter.&lt;key&gt;</c>) is <c>FlagExport:Exporters:&lt;name&gt;:&lt;Key&gt;</c>, where the name is the
/// entry's <c>name</c> or one derived from its destination (<see cref="ExporterNames"/>); the top-level
/// <c>bufferDirectory</c> and <c>maxBufferBytes</c> are <c>FlagExport:BufferDirectory</c> and
/// <c>FlagExport:MaxBufferBytes</c>; the top-level <c>deadLetterDirectory</c> and <c>maxRetryDuration</c> are every
/// exporter's <c>DeadLetterDirectory</c> and <c>MaxRetryDuration</c>.
/// </summary>
/// <remarks>
/// <para>
/// Only names and units are translated here: the library's binder reads the values and its validators judge them, so an
/// option is declared once, in its options class, and the same key works in code, appsettings.json, environment
/// variables and YAML. A key no option reads is passed on too, and refused by the library with the list of valid keys.
/// </para>
/// <para>
/// Durations are whole milliseconds in the relay proxy's keys, as go-feature-flag writes them, and
/// <see cref="TimeSpan"/> text under <c>FlagExport:</c>; which options are durations is read from the options classes.
/// </para>
/// <para>
/// The aliases are the lowest configuration source but the defaults: a <c>FlagExport:</c> key set anywhere wins over
/// its relay-proxy alias.
/// </para>
/// </remarks>
internal sealed class RelayProxyAliases
{
    private static readonly HashSet<string> DurationOptions = new(
        typeof(DataExporterOptions).GetProperties().Concat(typeof(S3ExporterOptions).GetProperties()).Concat(typeof(FileExporterOptions).GetProperties())
            .Concat(typeof(AzureBlobExporterOptions).GetProperties())
            .Where(p => (Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType) == typeof(TimeSpan))
            .Select(p => p.Name),
        StringComparer.OrdinalIgnoreCase);

    private static readonly (string Key, string Option)[] DurabilityKeys =
        [("bufferDirectory", nameof(DurableBufferOptions.BufferDirectory)), ("maxBufferBytes", nameof(DurableBufferOptions.MaxBufferBytes))];

    private static readonly (string Key, string Option)[] EveryExporterKeys =
        [("deadLetterDirectory", nameof(DataExporterOptions.DeadLetterDirectory)), ("maxRetryDuration", nameof(DataExporterOptions.MaxRetryDuration))];

    /// <summary>The library key of each alias, and where its value was written.</summary>
    private readonly Dictionary<string, Alias> _aliases = new(StringComparer.OrdinalIgnoreCase);

    private readonly List<ExporterSpec> _exporters = [];

    private RelayProxyAliases()
    {
    }

    /// <summary>The top-level keys translated here.</summary>
    public static IEnumerable<string> TopLevelKeys => DurabilityKeys.Concat(EveryExporterKeys).Select(k => k.Key);

    /// <summary>The exporters of the relay-proxy keys, in order, each with a valid kind.</summary>
    public IReadOnlyList<ExporterSpec> Exporters => _exporters;

    /// <summary>Whether no exporter is configured by the relay-proxy keys (then the collector adds its default).</summary>
    public bool NoneConfigured { get; private set; }

    /// <summary>The library keys and their values, to add as a configuration source.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Values => _aliases.Select(a => KeyValuePair.Create(a.Key, a.Value.Value));

    /// <summary>Reads the relay-proxy keys of <paramref name="configuration"/>; what cannot be translated goes to <paramref name="errors"/>.</summary>
    public static RelayProxyAliases Read(IConfiguration configuration, List<string> errors)
    {
        var aliases = new RelayProxyAliases();
        IConfigurationSection single = configuration.GetSection("exporter");
        if (single.GetChildren().Any())
        {
            aliases.ReadExporter(single, "exporter", errors);
        }

        foreach (IConfigurationSection entry in configuration.GetSection("exporters").GetChildren())
        {
            if (!int.TryParse(entry.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                errors.Add($"exporters: must be a list of exporters; found the key '{entry.Key}'.");
                break;
            }

            aliases.ReadExporter(entry, $"exporters[{index.ToString(CultureInfo.InvariantCulture)}]", errors);
        }

        aliases.NoneConfigured = aliases._exporters.Count == 0 && !single.GetChildren().Any() && !configuration.GetSection("exporters").GetChildren().Any();
        if (aliases.NoneConfigured)
        {
            string destination = ExporterNames.Destination("file", section: null);
            aliases._exporters.Add(new FileExporterSpec { Name = ExporterNames.Derive(destination), Path = "default exporter", Destination = destination });
        }

        aliases.CheckNamesAreUnique(errors);

        foreach ((string key, string option) in DurabilityKeys)
        {
            aliases.Add($"{FlagExportBuilder.SectionName}:{option}", configuration.GetSection(key), key, errors);
        }

        foreach ((string key, string option) in EveryExporterKeys)
        {
            int before = errors.Count;
            foreach (ExporterSpec exporter in aliases._exporters)
            {
                string target = $"{FlagExportBuilder.GetConfigurationPath(exporter.Name)}:{option}";
                if (!aliases._aliases.ContainsKey(target))
                {
                    aliases.Add(target, configuration.GetSection(key), key, errors);
                }

                if (errors.Count > before)
                {
                    break; // one value, one message
                }
            }
        }

        return aliases;
    }

    /// <summary>
    /// Names the key the user wrote in a failure the library reported for a library key (see the shape in
    /// <see cref="OptionErrors"/>): <c>FlagExport:Exporters:exporter-1:Format 'xml' is not …</c> becomes
    /// <c>exporters[1].format: 'xml' is not …</c>. A failure about a value set under its <c>FlagExport:</c> key, or
    /// about another key, is returned as it is.
    /// </summary>
    /// <param name="failure">The library's failure.</param>
    /// <param name="configuration">The configuration the options were bound from, aliases included.</param>
    public string Rename(string failure, IConfiguration configuration)
    {
        foreach (ExporterSpec exporter in _exporters)
        {
            string prefix = FlagExportBuilder.GetConfigurationPath(exporter.Name) + ":";
            if (failure.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return Rename(failure, prefix, exporter, configuration);
            }
        }

        string root = FlagExportBuilder.SectionName + ":";
        return failure.StartsWith(root, StringComparison.OrdinalIgnoreCase) ? Rename(failure, root, null, configuration) : failure;
    }

    private string Rename(string failure, string prefix, ExporterSpec? exporter, IConfiguration configuration)
    {
        string rest = failure[prefix.Length..];
        int space = rest.IndexOf(' ', StringComparison.Ordinal);
        string option = (space < 0 ? rest : rest[..space]).TrimEnd(':');
        string text = space < 0 ? "" : rest[(space + 1)..];
        if (option.Length == 0)
        {
            return exporter is null ? failure : $"{exporter.Path}: {text}";
        }

        string key = prefix + option;
        string? value = configuration[key];
        if (_aliases.TryGetValue(key, out Alias? alias) && value == alias.Value)
        {
            return alias.Milliseconds
                ? $"{alias.Key}: {text.TrimEnd('.')} ({alias.Written} milliseconds as written)."
                : $"{alias.Key}: {text}";
        }

        // An option nobody set (a required bucket) is named as the entry would write it; a FlagExport: key as it is.
        return exporter is null || value is not null || configuration.GetSection(key).GetChildren().Any()
            ? failure
            : $"{exporter.Path}.{YamlKey(option)}: {text}";
    }

    /// <summary>The YAML key of a FlagExport option: <c>S3Path</c> is <c>path</c>, the rest are camelCase.</summary>
    internal static string YamlKey(string option) => option switch
    {
        nameof(S3ExporterOptions.S3Path) => "path",
        _ => string.Concat([char.ToLowerInvariant(option[0])], option.AsSpan(1)),
    };

    /// <summary>
    /// Two entries with one name would share options, cursor and dead letters: refused, naming both entries. Names are
    /// configuration keys, so they are compared without regard to case.
    /// </summary>
    private void CheckNamesAreUnique(List<string> errors)
    {
        var seen = new Dictionary<string, ExporterSpec>(StringComparer.OrdinalIgnoreCase);
        foreach (ExporterSpec exporter in _exporters.ToList())
        {
            if (!seen.TryAdd(exporter.Name, exporter))
            {
                _ = _exporters.Remove(exporter); // not registered: the start-up stops on the message below
                ExporterSpec first = seen[exporter.Name];
                errors.Add(exporter.Named || first.Named
                    ? $"{exporter.Path}.name: '{exporter.Name}' is already the name of {first.Path}; each exporter needs its own name."
                    : $"{exporter.Path}: writes to the same destination as {first.Path} ({exporter.Destination}); give each of them a distinct 'name'.");
            }
        }
    }

    private void ReadExporter(IConfigurationSection section, string path, List<string> errors)
    {
        string? kind = section["kind"];
        string? written = section["name"];
        if (written is not null && ExporterNames.Problem($"{path}.name", written) is { } problem)
        {
            errors.Add(problem);
            return;
        }

        ExporterSpec spec;
        switch (kind?.ToUpperInvariant())
        {
            case "FILE":
            {
                string destination = ExporterNames.Destination("file", section);
                spec = new FileExporterSpec { Name = written ?? ExporterNames.Derive(destination), Named = written is not null, Path = path, Destination = destination };
                break;
            }

            case "S3":
            {
                string destination = ExporterNames.Destination("s3", section);
                spec = new S3ExporterSpec { Name = written ?? ExporterNames.Derive(destination), Named = written is not null, Path = path, Destination = destination };
                break;
            }

            case "WEBHOOK":
            {
                string destination = ExporterNames.Destination("webhook", section);
                spec = new WebhookExporterSpec { Name = written ?? ExporterNames.Derive(destination), Named = written is not null, Path = path, Destination = destination };
                break;
            }

            case "AZUREBLOBSTORAGE":
            {
                string destination = ExporterNames.Destination("azureBlobStorage", section);
                spec = new AzureBlobExporterSpec { Name = written ?? ExporterNames.Derive(destination), Named = written is not null, Path = path, Destination = destination };
                break;
            }

            case null or "":
                errors.Add($"{path}.kind: is required; valid values are {ExporterSpec.Kinds}.");
                return;
            default:
                errors.Add($"{path}.kind: '{kind}' is not a supported exporter kind; valid values are {ExporterSpec.Kinds}.");
                return;
        }

        _exporters.Add(spec);
        string target = FlagExportBuilder.GetConfigurationPath(spec.Name);
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!string.Equals(child.Key, "kind", StringComparison.OrdinalIgnoreCase) && !string.Equals(child.Key, "name", StringComparison.OrdinalIgnoreCase))
            {
                string option = spec is S3ExporterSpec && string.Equals(child.Key, "path", StringComparison.OrdinalIgnoreCase)
                    ? nameof(S3ExporterOptions.S3Path)
                    : child.Key;
                Add($"{target}:{option}", child, $"{path}.{child.Key}", errors);
            }
        }
    }

    /// <summary>Adds <paramref name="source"/> and what is under it as <paramref name="target"/>.</summary>
    private void Add(string target, IConfigurationSection source, string key, List<string> errors)
    {
        if (source.Value is { } value)
        {
            string option = target[(target.LastIndexOf(':') + 1)..];
            bool milliseconds = DurationOptions.Contains(option);
            if (milliseconds)
            {
                if (!TryReadMilliseconds(value, out TimeSpan duration))
                {
                    errors.Add($"{key}: must be a whole number of milliseconds, as go-feature-flag writes durations; got '{value}'.");
                    return;
                }

                _aliases[target] = new Alias(key, duration.ToString("c", CultureInfo.InvariantCulture), value, Milliseconds: true);
                return;
            }

            _aliases[target] = new Alias(key, value, value, Milliseconds: false);
        }

        foreach (IConfigurationSection child in source.GetChildren())
        {
            Add($"{target}:{child.Key}", child, $"{key}.{child.Key}", errors);
        }
    }

    private static bool TryReadMilliseconds(string text, out TimeSpan duration)
    {
        duration = default;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long milliseconds)
            || milliseconds > (long)TimeSpan.MaxValue.TotalMilliseconds || milliseconds < (long)TimeSpan.MinValue.TotalMilliseconds)
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    /// <summary>One alias: the key as written, the value for the library, and the value as written.</summary>
    private sealed record Alias(string Key, string? Value, string Written, bool Milliseconds);
}

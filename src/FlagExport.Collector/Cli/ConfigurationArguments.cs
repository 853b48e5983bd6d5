using FlagExport.Collector.Configuration;

namespace FlagExport.Collector.Cli;

/// <summary>
/// Splits a command line into what the parser reads (the declared options and subcommands) and the configuration
/// pairs (<c>--Section:Key value</c>, <c>--maxRequestBodySize=1024</c>) that go, untouched, to the host's
/// command-line configuration provider, as they did before the collector had a parser.
/// </summary>
/// <remarks>
/// A token is a configuration pair only when it starts with <c>--</c> and its key either contains <c>:</c> (a
/// configuration path such as <c>--exporters:0:kind</c> or <c>--Logging:LogLevel:Default</c>, which no option of the
/// parser can look like) or is one of <see cref="KnownKeys"/> (the top-level keys the YAML file accepts, plus the
/// host's own). Anything else, a misspelt option such as <c>--helpme</c> or <c>--conifg</c> included, is left to the
/// parser, which refuses it with the usage. Declared options (<c>--config</c>, <c>--urls</c>, <c>--version</c>) are never
/// taken here, even where their names are configuration keys too. A pair's value is the rest of the token after
/// <c>=</c>, or else the next token; a key with no value is refused, since the provider would read the next option as
/// its value.
/// </remarks>
internal sealed class ConfigurationArguments
{
    /// <summary>The host's own keys (WebApplicationOptions and the server), readable from the command line.</summary>
    private static readonly string[] HostKeys = ["environment", "contentRoot", "applicationName", "http_ports", "https_ports"];

    private ConfigurationArguments(IReadOnlyList<string> forParser, IReadOnlyList<string> pairs, IReadOnlyList<string> errors)
    {
        ForParser = forParser;
        Pairs = pairs;
        Errors = errors;
    }

    /// <summary>The tokens for the parser, in order: subcommands, declared options and anything unknown.</summary>
    public IReadOnlyList<string> ForParser { get; }

    /// <summary>The configuration pairs, in order, as written (one or two tokens each).</summary>
    public IReadOnlyList<string> Pairs { get; }

    /// <summary>One line per configuration key given without a value, naming it.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>The keys without <c>:</c> that are configuration, compared without regard to case.</summary>
    public static IEnumerable<string> KnownKeys => CollectorApp.TopLevelKeys.Concat(HostKeys);

    /// <summary>Splits <paramref name="args"/>; <paramref name="declared"/> are the options the parser declares.</summary>
    public static ConfigurationArguments Split(IReadOnlyList<string> args, IReadOnlySet<string> declared)
    {
        var known = new HashSet<string>(KnownKeys, StringComparer.OrdinalIgnoreCase);
        var forParser = new List<string>();
        var pairs = new List<string>();
        var errors = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string token = args[i];
            string key = KeyOf(token);
            if (!token.StartsWith("--", StringComparison.Ordinal) || key.Length == 0 || declared.Contains(token) || declared.Contains("--" + key)
                || (!key.Contains(':', StringComparison.Ordinal) && !known.Contains(key)))
            {
                forParser.Add(token);
                continue;
            }

            pairs.Add(token);
            if (token.Contains('=', StringComparison.Ordinal))
            {
                continue;
            }

            if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                pairs.Add(args[++i]);
            }
            else
            {
                pairs.RemoveAt(pairs.Count - 1);
                errors.Add($"{token}: a configuration key needs a value ('{token} value' or '{token}=value').");
            }
        }

        return new ConfigurationArguments(forParser, pairs, errors);
    }

    /// <summary>The key of <c>--key</c> or <c>--key=value</c>, empty for anything else.</summary>
    private static string KeyOf(string token)
    {
        if (!token.StartsWith("--", StringComparison.Ordinal))
        {
            return "";
        }

        int equals = token.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? token[2..] : token[2..equals];
    }
}

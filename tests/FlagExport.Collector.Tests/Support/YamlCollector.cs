namespace FlagExport.Collector.Tests.Support;

/// <summary>
/// The real collector run from a YAML file of the test's, as an operator runs it: what the process tests of every
/// exporter kind share (write the file, serve it on a free port or run a command on it).
/// </summary>
public static class YamlCollector
{
    /// <summary>The file name the helpers write and pass to <c>--config</c>.</summary>
    public const string FileName = "collector.yaml";

    /// <summary>One feature event in go-feature-flag's collector body.</summary>
    public const string OneFeatureEvent =
        """{"events":[{"kind":"feature","contextKind":"user","userKey":"u","creationDate":1700000000,"key":"k","variation":"v","value":1}]}""";

    /// <summary><see cref="OneFeatureEvent"/> as the default CSV template writes it.</summary>
    public const string OneFeatureEventCsv = "feature;user;u;1700000000;k;v;1;false;PROVIDER_CACHE\n";

    /// <summary>Writes <paramref name="yaml"/> as <paramref name="file"/> in <paramref name="directory"/>.</summary>
    public static Task WriteAsync(TempDirectory directory, string yaml, string file = FileName) =>
        File.WriteAllTextAsync(directory.Combine(file), yaml, TestContext.Current.CancellationToken);

    /// <summary>
    /// Writes <paramref name="yaml"/> and starts the collector serving it on a free loopback port, in the tests'
    /// environment plus <paramref name="environment"/> and without the variables in <paramref name="unset"/>.
    /// </summary>
    public static async Task<CollectorProcess> ServeAsync(
        TempDirectory directory, string yaml, IDictionary<string, string>? environment = null, IEnumerable<string>? unset = null)
    {
        await WriteAsync(directory, yaml);
        return CollectorProcess.Start(directory.Path, ["--config", FileName, "--urls", "http://127.0.0.1:0"], environment, unset);
    }

    /// <summary>
    /// Writes <paramref name="yaml"/> and starts <c>validate</c> on it, with <c>--check-connectivity</c> when
    /// <paramref name="checkConnectivity"/> is set.
    /// </summary>
    public static async Task<CollectorProcess> ValidateAsync(
        TempDirectory directory, string yaml, bool checkConnectivity, IDictionary<string, string>? environment = null, IEnumerable<string>? unset = null)
    {
        await WriteAsync(directory, yaml);
        return CollectorProcess.Start(
            directory.Path, checkConnectivity ? ["validate", "--config", FileName, "--check-connectivity"] : ["validate", "--config", FileName], environment, unset);
    }
}

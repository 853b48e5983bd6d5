using System.Diagnostics;
using System.Globalization;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Otlp.JsClient;

/// <summary>Runs the emitter script (<see cref="OtelJsPackages.ScriptPath"/>) with the real OpenTelemetry JavaScript SDK.</summary>
public static class OtelJsClient
{
    /// <summary>
    /// Emits <paramref name="evaluations"/> (and the script's records that are not evaluations), flushes, shuts the SDK
    /// down and returns what it reported; fails the test if node fails or runs past <paramref name="timeout"/>.
    /// </summary>
    public static async Task<OtelJsRun> EmitAsync(OtelJsSettings settings, IReadOnlyCollection<OtelEvaluation> evaluations, TimeSpan timeout)
    {
        string nodeModules = await OtelJsPackages.NodeModulesAsync();
        string file = Path.Combine(Path.GetTempPath(), $"flagexport-otel-js-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, OtelEvaluation.ToJson(evaluations));
        try
        {
            var node = new ProcessStartInfo("node") { WorkingDirectory = Path.GetDirectoryName(OtelJsPackages.ScriptPath)! };
            node.ArgumentList.Add(OtelJsPackages.ScriptPath);
            node.Environment["NODE_PATH"] = nodeModules;
            node.Environment["ENDPOINT"] = settings.Endpoint;
            node.Environment["PROTOCOL"] = settings.Protocol;
            node.Environment["SIGNAL"] = settings.Signal;
            node.Environment["API_KEY"] = settings.ApiKey;
            node.Environment["API_KEY_HEADER"] = settings.ApiKeyHeader;
            node.Environment["SERVICE_NAME"] = settings.ServiceName;
            node.Environment["COMPRESSION"] = settings.Compression;
            node.Environment["TIMEOUT_MS"] = ((long)settings.ExporterTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
            node.Environment["BATCH_SIZE"] = settings.BatchSize.ToString(CultureInfo.InvariantCulture);
            node.Environment["EVALUATIONS"] = file;
            // The SDK reads its exporter settings from the environment too: none from the test runner's.
            foreach (string name in node.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
            {
                _ = node.Environment.Remove(name);
            }

            (int exitCode, string output, string error) = await NodeProcess.RunAsync(node, timeout);
            Assert.True(exitCode == 0, $"node exited with {exitCode}: {output} {error}");
            return OtelJsRun.Parse(output, error);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

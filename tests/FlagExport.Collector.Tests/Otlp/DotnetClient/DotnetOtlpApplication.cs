using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Otlp.DotnetClient;

/// <summary>
/// The test application of <c>tests/OtelDotnetClient</c>, run in its own process: it emits a scenario's records with
/// OpenTelemetry .NET's OTLP exporter, configured only by the standard <c>OTEL_*</c> variables, and prints the time of
/// each record it emitted.
/// </summary>
internal static class DotnetOtlpApplication
{
    /// <summary>The <c>service.name</c> the application's resource has (<c>OTEL_SERVICE_NAME</c>).</summary>
    public const string ServiceName = "otel-dotnet-client";

    /// <summary>The application's DLL, built with the same configuration as these tests (they reference its project).</summary>
    public static string Dll =>
        Path.GetFullPath(Path.Combine(
            CollectorProcess.ProjectDirectory, "..", "..", "tests", "OtelDotnetClient", "bin", CollectorProcess.Configuration,
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name, "OtelDotnetClient.dll"));

    /// <summary>
    /// Emits <paramref name="records"/> as log records (<paramref name="signal"/> <c>logs</c>) or span events
    /// (<c>traces</c>) to <paramref name="endpoint"/> with <paramref name="protocol"/> (<c>http/protobuf</c> or
    /// <c>grpc</c>), and returns once the application has flushed its exporters and exited, with the time of each
    /// record in emission order. <paramref name="environment"/> adds or overrides variables (retry, timeout, batching).
    /// </summary>
    public static async Task<Run> RunAsync(
        string workingDirectory, string signal, string protocol, string endpoint, IReadOnlyList<ScenarioRecord> records,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        string scenario = Path.Combine(workingDirectory, $"scenario-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(scenario, new JsonArray([.. records.Select(r => r.ToJson())]).ToJsonString(), TestContext.Current.CancellationToken);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll);
        start.ArgumentList.Add(signal);
        start.ArgumentList.Add(scenario);
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            _ = start.Environment.Remove(name); // only what the test sets
        }

        foreach (string name in new[] { "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy", "DOTNET_ENVIRONMENT" })
        {
            _ = start.Environment.Remove(name); // loopback only
        }

        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint;
        start.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol;
        start.Environment["OTEL_SERVICE_NAME"] = ServiceName;
        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
        {
            start.Environment[variable.Key] = variable.Value;
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
        {
            deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"The OpenTelemetry .NET application did not exit. Its errors: {await error}");
            }
        }

        string errors = await error;
        Assert.True(process.ExitCode == 0, $"The OpenTelemetry .NET application exited with {process.ExitCode}: {errors}");
        long[] times = [.. (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using JsonDocument document = JsonDocument.Parse(line);
            return document.RootElement.GetProperty("timeUnixNano").GetInt64();
        })];
        Assert.True(times.Length == records.Count, $"{times.Length} records emitted of {records.Count}: {errors}");
        return new Run([.. records.Zip(times, (record, time) => record with { TimeUnixNano = time })], errors);
    }

    /// <summary>What the application emitted, each record with its time, and what its exporter reported.</summary>
    /// <param name="Records">The records, in emission order, with <see cref="ScenarioRecord.TimeUnixNano"/> set.</param>
    /// <param name="Diagnostics">The exporter's warnings and errors, one a line, then its count of them.</param>
    internal sealed record Run(IReadOnlyList<ScenarioRecord> Records, string Diagnostics)
    {
        /// <summary>How many warnings or errors the exporter reported (its last line).</summary>
        public int ExporterWarnings =>
            int.Parse(Diagnostics.Split("exporter diagnostics: ")[^1].Split(' ')[0], CultureInfo.InvariantCulture);
    }
}

using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.Collector.Tests.Support;

/// <summary>
/// The collector as <see cref="CollectorApp.Build"/> builds it for the real executable, on an in-process test server,
/// with a feature exporter writing JSON lines to <c>features/</c> and a tracking exporter writing to <c>tracking/</c>
/// of a temporary folder, in memory mode unless the settings give <c>bufferDirectory</c>. Flush intervals are an hour,
/// so files appear only on <see cref="FlushAsync"/> or stop.
/// </summary>
public sealed class TestCollector : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private bool _stopped;

    private TestCollector(IDictionary<string, string?> settings, string[] args, bool fileExporters)
    {
        // Memory mode unless a test names a buffer folder: in-process collectors share the test process's working
        // folder, where the default ./buffer would be one folder (and one lock) for every test.
        var all = !fileExporters ? new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["bufferDirectory"] = "" } : new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["bufferDirectory"] = "",
            ["exporters:0:kind"] = "file",
            ["exporters:0:name"] = "exporter-0",
            ["exporters:0:outputDir"] = FeatureDir,
            ["exporters:0:flushInterval"] = "3600000",
            ["exporters:1:kind"] = "file",
            ["exporters:1:name"] = "exporter-1",
            ["exporters:1:outputDir"] = TrackingDir,
            ["exporters:1:flushInterval"] = "3600000",
            ["exporters:1:eventType"] = "tracking",
        };
        foreach (KeyValuePair<string, string?> setting in settings)
        {
            all[setting.Key] = setting.Value;
        }

        App = CollectorApp.Build(args, builder =>
        {
            _ = builder.WebHost.UseTestServer();
            _ = builder.Logging.ClearProviders().AddFakeLogging();
            _ = builder.Configuration.AddInMemoryCollection(all);
        });
    }

    public WebApplication App { get; }

    public HttpClient Client { get; private set; } = null!;

    public string FeatureDir => _directory.Combine("features");

    public string TrackingDir => _directory.Combine("tracking");

    public static Task<TestCollector> StartAsync(IDictionary<string, string?>? settings = null, params string[] args) =>
        StartAsync(settings, fileExporters: true, args);

    /// <summary>Starts a collector; without <paramref name="fileExporters"/>, <paramref name="settings"/> alone configure the exporters.</summary>
    public static async Task<TestCollector> StartAsync(IDictionary<string, string?>? settings, bool fileExporters, params string[] args)
    {
        var collector = new TestCollector(settings ?? new Dictionary<string, string?>(), args, fileExporters);
        await collector.App.StartAsync(TestContext.Current.CancellationToken);
        collector.Client = collector.App.GetTestClient();
        return collector;
    }

    /// <summary>Posts <paramref name="json"/> to the collector with the given content type.</summary>
    public Task<HttpResponseMessage> PostAsync(string json, string? contentType = "application/json", Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/data/collector") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)) };
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        configure?.Invoke(request);
        return Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Every message logged so far, one per line.</summary>
    public string Logs() => string.Join('\n', App.Services.GetFakeLogCollector().GetSnapshot().Select(r => $"{r.Level} {r.Category} {r.Message} {r.Exception}"));

    /// <summary>Writes what the exporters hold.</summary>
    public Task FlushAsync() => App.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);

    /// <summary>The content of every file in <paramref name="directory"/>, oldest first, concatenated.</summary>
    public static string ReadAll(string directory) =>
        !Directory.Exists(directory) ? ""
        : string.Concat(new DirectoryInfo(directory).GetFiles().Where(f => !f.Name.StartsWith('.')).OrderBy(f => f.CreationTimeUtc).ThenBy(f => f.Name)
            .Select(f => File.ReadAllText(f.FullName)));

    /// <summary>Stops the host, which flushes every exporter.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await App.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await App.DisposeAsync();
        _directory.Dispose();
    }
}

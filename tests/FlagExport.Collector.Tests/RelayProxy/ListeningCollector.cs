using FlagExport.Collector.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace FlagExport.Collector.Tests.RelayProxy;

/// <summary>
/// The collector as <see cref="CollectorApp.Build"/> builds it, listening on a real loopback port (Kestrel, not the test
/// server), so that websockets, streaming and other processes (the npm provider) reach it as they would in production.
/// One exporter writes JSON lines to <see cref="FeatureDir"/> with an hour's flush interval: files appear on
/// <see cref="FlushAsync"/>.
/// </summary>
public sealed class ListeningCollector : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();

    private ListeningCollector(IDictionary<string, string?> settings)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["urls"] = "http://127.0.0.1:0",
            ["bufferDirectory"] = "", // memory mode: the default ./buffer would be the test process's, shared by every test
            ["exporters:0:kind"] = "file",
            ["exporters:0:outputDir"] = FeatureDir,
            ["exporters:0:flushInterval"] = "3600000",
        };
        foreach (KeyValuePair<string, string?> setting in settings)
        {
            all[setting.Key] = setting.Value;
        }

        App = CollectorApp.Build([], builder =>
        {
            _ = builder.Logging.ClearProviders().AddFakeLogging();
            _ = builder.Configuration.AddInMemoryCollection(all);
        });
    }

    public WebApplication App { get; }

    /// <summary>The base address, such as <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; private set; } = "";

    public string FeatureDir => _directory.Combine("features");

    public static async Task<ListeningCollector> StartAsync(IDictionary<string, string?> settings)
    {
        var collector = new ListeningCollector(settings);
        await collector.App.StartAsync(TestContext.Current.CancellationToken);
        collector.Url = collector.App.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return collector;
    }

    /// <summary>Writes what the exporter holds.</summary>
    public Task FlushAsync() => App.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);

    /// <summary>Every message logged so far, one per line.</summary>
    public string Logs() => string.Join('\n', App.Services.GetFakeLogCollector().GetSnapshot().Select(r => $"{r.Level} {r.Category} {r.Message} {r.Exception}"));

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
        _directory.Dispose();
    }
}

using FlagExport.Collector.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlagExport.Collector.Tests.Webhook;

/// <summary>
/// An application with FlagExport posting through <c>AddWebhookExporter</c> to a FlagExport collector process that
/// checks the signature with <c>webhookSecret</c>: what the collector writes is what a file exporter beside the webhook
/// writes in the application, byte for byte.
/// </summary>
public sealed class WebhookToCollectorTests : IDisposable
{
    private const string Secret = "chain-secret";

    private readonly TempDirectory _directory = new();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    // Each event carries its own metadata, or none, unlike the webhook's meta: the collector keeps each event's own
    // (the webhook exporter asks it to), so both ends hold the same events.
    private static FeatureEvent[] Events() =>
    [
        Event("user-1", FlagValue.FromBoolean(true), 1733230547, new() { ["hostname"] = FlagValue.FromString("app-1"), ["zone"] = 3 }),
        Event("ünïcode <&> \"quoted\"\n", FlagValue.FromString("a\u2028b"), 1733230548, metadata: null),
        Event("user-3", FlagValue.FromObject([new("rate", FlagValue.FromDouble(0.000001)), new("tags", FlagValue.FromArray([FlagValue.FromString("x"), FlagValue.Null]))]), 1733230549,
            new() { ["tenant"] = FlagValue.FromString("t-9") }),
    ];

    private static FeatureEvent Event(string userKey, FlagValue value, long date, Dictionary<string, FlagValue>? metadata) => new()
    {
        UserKey = userKey,
        Key = "checkout",
        Variation = "on",
        Value = value,
        CreationDate = date,
        Version = "v1",
        Metadata = metadata,
    };

    [Fact]
    public async Task TheCollectorWrites_ExactlyWhatTheApplicationsFileExporterWrites()
    {
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            webhookSecret: {Secret}
            bufferDirectory: ./buffer
            exporters:
              - kind: file
                outputDir: ./received
                format: json
            """, Cancellation);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string address = await collector.WaitUntilListeningAsync();

        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        _ = builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FlagExport:Exporters:file:OutputDir"] = _directory.Combine("local"),
            ["FlagExport:Exporters:webhook:EndpointUrl"] = address + "/v1/data/collector",
            ["FlagExport:Exporters:webhook:Secret"] = Secret,
            ["FlagExport:Exporters:webhook:Meta:hostname"] = "app-host",
            ["FlagExport:Exporters:webhook:Meta:env"] = "prod",
            ["FlagExport:Exporters:webhook:Headers:X-Team:0"] = "flags",
        });
        _ = builder.Services.AddFlagExport(export => export.AddFileExporter().AddWebhookExporter());
        using (IHost app = builder.Build())
        {
            await app.StartAsync(Cancellation);
            IFlagEventSink sink = app.Services.GetRequiredService<IFlagEventSink>();
            foreach (FeatureEvent e in Events())
            {
                Assert.True(sink.Add(e));
            }

            await sink.FlushAsync(Cancellation); // returns once the collector answered 2xx
            await app.StopAsync(Cancellation);
        }

        collector.Signal("TERM"); // writes what it holds, then exits
        Assert.True(await collector.WaitForExitAsync() == 0, collector.Output);

        byte[] local = ReadAll(_directory.Combine("local"));
        Assert.Contains("\"metadata\":{\"hostname\":\"app-1\",\"zone\":3}", System.Text.Encoding.UTF8.GetString(local), StringComparison.Ordinal);
        Assert.Equal(3, local.Count(b => b == (byte)'\n'));
        Assert.Equal(local, ReadAll(_directory.Combine("received")));
    }

    private static byte[] ReadAll(string directory) =>
        [.. new DirectoryInfo(directory).GetFiles().Where(f => !f.Name.StartsWith('.')).OrderBy(f => f.Name, StringComparer.Ordinal)
            .SelectMany(f => File.ReadAllBytes(f.FullName))];
}

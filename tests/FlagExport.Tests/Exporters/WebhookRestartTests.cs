using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlagExport.Tests.Exporters;

/// <summary>
/// With the durable buffer, a batch the webhook did not accept before the application stopped is posted after the
/// restart with the same body and the same <c>Idempotency-Key</c>, so a receiver that honours the key can recognise it.
/// </summary>
public sealed class WebhookRestartTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    private IHost Build(string url)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        _ = builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FlagExport:BufferDirectory"] = Path.Combine(_directory.Path, "buffer"),
            ["FlagExport:Exporters:webhook:EndpointUrl"] = url,
            ["FlagExport:Exporters:webhook:ShutdownTimeout"] = "00:00:01",
            ["FlagExport:Exporters:webhook:DeadLetterDirectory"] = Path.Combine(_directory.Path, "dead-letter"),
        });
        _ = builder.Services.AddFlagExport(export => export.AddWebhookExporter());
        return builder.Build();
    }

    [Fact]
    public async Task ABatchNotAcceptedBeforeAStop_IsPostedAfterTheRestart_UnderTheSameIdempotencyKey()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        receiver.Otherwise = 503;
        using (IHost first = Build(receiver.Url))
        {
            await first.StartAsync(Cancellation);
            IFlagEventSink sink = first.Services.GetRequiredService<IFlagEventSink>();
            for (int i = 0; i < 3; i++)
            {
                Assert.True(sink.Add(new FeatureEvent { UserKey = $"u{i}", Key = "k", CreationDate = 1_700_000_000 + i }));
            }

            _ = await Record.ExceptionAsync(() => sink.FlushAsync(Cancellation)); // on disk, then the 503
            await first.StopAsync(Cancellation); // the batch stays in the buffer
        }

        WebhookReceiver.Received refused = receiver.Requests.First();
        Assert.Equal(503, refused.Status);
        receiver.Otherwise = 200;
        using (IHost second = Build(receiver.Url))
        {
            await second.StartAsync(Cancellation);
            await second.Services.GetRequiredService<IFlagEventSink>().FlushAsync(Cancellation);
            await second.StopAsync(Cancellation);
        }

        WebhookReceiver.Received accepted = Assert.Single(receiver.Requests, r => r.Status == 200);
        Assert.Equal(refused.Header("Idempotency-Key"), accepted.Header("Idempotency-Key"));
        Assert.Equal(Encoding.UTF8.GetString(refused.Body), Encoding.UTF8.GetString(accepted.Body));
        Assert.Single(receiver.Requests.Select(r => r.Header("Idempotency-Key")).Distinct());
    }
}

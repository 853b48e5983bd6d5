using System.Text;
using FlagExport.Tests.Exporters;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlagExport.Tests.Hosting;

/// <summary><c>AddWebhookExporter</c>: options read from <c>FlagExport:Exporters:&lt;name&gt;</c> and checked at start-up.</summary>
public sealed class AddWebhookExporterTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static IHost Build(Dictionary<string, string?> settings)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        _ = builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        _ = builder.Services.AddFlagExport(export => export.AddWebhookExporter("audit"));
        return builder.Build();
    }

    [Fact]
    public async Task MetaAndHeadersFromConfiguration_AreSent()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        using IHost host = Build(new()
        {
            ["FlagExport:Exporters:audit:EndpointUrl"] = receiver.Url,
            ["FlagExport:Exporters:audit:Meta:region"] = "eu-west-1",
            ["FlagExport:Exporters:audit:Meta:hostname"] = "app-1",
            ["FlagExport:Exporters:audit:Headers:Authorization:0"] = "Bearer t",
        });
        await host.StartAsync(Cancellation);
        IFlagEventSink sink = host.Services.GetRequiredService<IFlagEventSink>();
        Assert.True(sink.Add(new FeatureEvent { UserKey = "u", Key = "k", CreationDate = 1 }));

        await sink.FlushAsync(Cancellation);
        await host.StopAsync(Cancellation);

        WebhookReceiver.Received request = Assert.Single(receiver.Requests);
        Assert.StartsWith("""{"meta":{"hostname":"app-1","region":"eu-west-1"},"events":[{""", Encoding.UTF8.GetString(request.Body), StringComparison.Ordinal);
        Assert.Equal("Bearer t", request.Header("Authorization"));
    }

    [Fact]
    public async Task AnEndpointThatRefusesConnections_StopsStartUp_NamingTheKeyAndTheEndpoint_UnlessTheCheckIsOff()
    {
        string url = $"http://127.0.0.1:{ClosedPort.Next()}/hook";
        using (IHost refused = Build(new() { ["FlagExport:Exporters:audit:EndpointUrl"] = url }))
        {
            WebhookExportException error = await Assert.ThrowsAsync<WebhookExportException>(() => refused.StartAsync(Cancellation));

            Assert.StartsWith($"FlagExport:Exporters:audit:EndpointUrl: The webhook endpoint '{url}' cannot be reached: ", error.Message, StringComparison.Ordinal);
            Assert.EndsWith("Set VerifyEndpointOnStart to false if the receiver may start later.", error.Message, StringComparison.Ordinal);
        }

        using IHost later = Build(new()
        {
            ["FlagExport:Exporters:audit:EndpointUrl"] = url,
            ["FlagExport:Exporters:audit:VerifyEndpointOnStart"] = "false",
        });
        await later.StartAsync(Cancellation);
        await later.StopAsync(Cancellation);
    }

    [Fact]
    public async Task AReachableEndpoint_PassesTheStartUpCheck_WithAHeadThatKeepsNothing()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        receiver.HeadStatus = 401; // any HTTP answer proves the endpoint reachable
        using IHost host = Build(new() { ["FlagExport:Exporters:audit:EndpointUrl"] = receiver.Url });

        await host.StartAsync(Cancellation);
        await host.StopAsync(Cancellation);

        Assert.Equal(1, receiver.HeadRequests);
        Assert.Empty(receiver.Requests);
    }

    [Theory]
    [InlineData("EndpointUrl", "ftp://example.com", "FlagExport:Exporters:audit:EndpointUrl must be an absolute http or https URL")]
    [InlineData("Headers:X-Team", "flags", "FlagExport:Exporters:audit:Headers:X-Team has no value")]
    [InlineData("Endpoint", "http://example.com", "FlagExport:Exporters:audit:Endpoint is not an option of this exporter")]
    public async Task AnInvalidOption_StopsStartUp_NamingTheKeyAndTheValue(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?> { ["FlagExport:Exporters:audit:EndpointUrl"] = "http://127.0.0.1:1/hook" };
        settings["FlagExport:Exporters:audit:" + key] = value;
        using IHost host = Build(settings);

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Cancellation));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}

using FlagExport.FeatureManagement.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FlagExport.FeatureManagement.Tests.Sample;

/// <summary>samples/FlagExport.FeatureManagement.Sample as it is configured, with its exports in a temporary folder.</summary>
public sealed class SampleAppTests : IDisposable
{
    private const long Now = 1733230547;
    private readonly TempDirectory _exports = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(Now));

    public void Dispose() => _exports.Dispose();

    [Fact]
    public async Task EachGreeting_IsOneExportedRow_WithTheUsersVariantAndItsValue()
    {
        await using WebApplicationFactory<Program> app = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web
            .UseSetting("FlagExport:Exporters:json:OutputDir", _exports.Path)
            .ConfigureTestServices(services => services.AddSingleton<TimeProvider>(_time)));
        using HttpClient client = app.CreateClient();

        Assert.Equal("Hey", await client.GetStringAsync(new Uri("/greeting?user=alice", UriKind.Relative), TestContext.Current.CancellationToken));
        Assert.Equal("Good day", await client.GetStringAsync(new Uri("/greeting?user=bob", UriKind.Relative), TestContext.Current.CancellationToken));
        Assert.Equal("Good day", await client.GetStringAsync(new Uri("/greeting", UriKind.Relative), TestContext.Current.CancellationToken));
        await app.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(
            [
                $$$"""{"kind":"feature","contextKind":"user","userKey":"alice","creationDate":{{{Now}}},"key":"Greeting","variation":"Casual","value":"Hey","default":false,"version":"greeting-v1","source":"SERVER","metadata":{"ETag":"greeting-v1"}}""",
                $$$"""{"kind":"feature","contextKind":"user","userKey":"bob","creationDate":{{{Now}}},"key":"Greeting","variation":"Formal","value":"Good day","default":true,"version":"greeting-v1","source":"SERVER","metadata":{"ETag":"greeting-v1"}}""",
                $$$"""{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":{{{Now}}},"key":"Greeting","variation":"Formal","value":"Good day","default":true,"version":"greeting-v1","source":"SERVER","metadata":{"ETag":"greeting-v1"}}""",
            ],
            _exports.Lines());
    }
}

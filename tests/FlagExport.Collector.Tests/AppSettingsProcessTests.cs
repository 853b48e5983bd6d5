using System.Net;
using System.Text;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

/// <summary>
/// The real executable configured as the README says it can be without YAML: an appsettings.json in the folder it runs
/// in (its content root), overridden key by key by environment variables such as <c>exporters__0__format</c>.
/// </summary>
public sealed class AppSettingsProcessTests : IDisposable
{
    private const string Key = "appsettings-secret-key";

    private readonly TempDirectory _directory = new();
    private readonly HttpClient _client = new();

    public void Dispose()
    {
        _client.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task AppSettingsJson_InTheWorkingFolder_SetsKeysAndExporter_AndAnEnvironmentVariableOverridesItsFormat()
    {
        await File.WriteAllTextAsync(_directory.Combine("appsettings.json"), """
            {
              "apiKeys": ["appsettings-secret-key"],
              "exporters": [
                {"kind": "file", "outputDir": "./from-appsettings", "format": "json", "filename": "events.{{ .Format}}"}
              ]
            }
            """, TestContext.Current.CancellationToken);
        using CollectorProcess collector = CollectorProcess.Start(
            _directory.Path,
            ["--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string> { ["exporters__0__format"] = "csv" });
        string address = await collector.WaitUntilListeningAsync();
        const string Body = """{"events":[{"kind":"feature","contextKind":"user","userKey":"u-1","creationDate":1700000000,"key":"from-appsettings","variation":"on","value":true,"default":false,"version":"v2"}]}""";

        HttpResponseMessage withoutKey = await PostAsync(address, Body, key: null);
        HttpResponseMessage wrongKey = await PostAsync(address, Body, key: "not-" + Key);
        HttpResponseMessage withKey = await PostAsync(address, Body, key: Key);

        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Equal("""{"ingestedContentCount":1}""", await withKey.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        collector.Signal("TERM");

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Contains(
            $"Exporting with {ExporterNames.Derive("file:" + _directory.Combine("from-appsettings"))} (exporters[0]): file, CSV, feature events, to {_directory.Combine("from-appsettings")}",
            collector.Output, StringComparison.Ordinal);
        Assert.Equal(
            [_directory.Combine("from-appsettings/events.csv")],
            Directory.GetFiles(_directory.Combine("from-appsettings")));
        Assert.Equal(
            "feature;user;u-1;1700000000;from-appsettings;on;true;false;PROVIDER_CACHE\n",
            await File.ReadAllTextAsync(_directory.Combine("from-appsettings/events.csv"), TestContext.Current.CancellationToken));
        Assert.False(Directory.Exists(_directory.Combine("exports")), "The default exporter must not run when appsettings.json configures one.");
    }

    private Task<HttpResponseMessage> PostAsync(string address, string json, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, address + "/v1/data/collector")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Add("X-API-Key", key);
        }

        return _client.SendAsync(request, TestContext.Current.CancellationToken);
    }
}

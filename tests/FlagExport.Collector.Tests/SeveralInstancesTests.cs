using System.Net;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

/// <summary>The collector is stateless: instances sharing one host and one output folder never overwrite each other.</summary>
public sealed class SeveralInstancesTests : IDisposable
{
    private readonly TempDirectory _shared = new();

    public void Dispose() => _shared.Dispose();

    [Theory]
    [InlineData(null)] // the collector's default name, with a UUID
    [InlineData("flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}")] // the relay proxy's default: same name in the same second
    public async Task TwoInstances_FlushingInTheSameSecond_WriteDistinctFiles(string? filename)
    {
        var settings = new Dictionary<string, string?> { ["exporters:0:outputDir"] = _shared.Path, ["exporters:0:filename"] = filename };
        await using TestCollector first = await TestCollector.StartAsync(settings);
        await using TestCollector second = await TestCollector.StartAsync(settings);

        Assert.Equal(HttpStatusCode.OK, (await first.PostAsync("""{"events":[{"kind":"feature","key":"from-first"}]}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.PostAsync("""{"events":[{"kind":"feature","key":"from-second"}]}""")).StatusCode);
        await Task.WhenAll(first.StopAsync(), second.StopAsync());

        string[] files = Directory.GetFiles(_shared.Path);
        Assert.Equal(2, files.Length);
        string all = TestCollector.ReadAll(_shared.Path);
        Assert.Contains("\"key\":\"from-first\"", all, StringComparison.Ordinal);
        Assert.Contains("\"key\":\"from-second\"", all, StringComparison.Ordinal);
    }
}

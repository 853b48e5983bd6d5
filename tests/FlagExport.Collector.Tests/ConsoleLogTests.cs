using System.Net;
using System.Text;
using System.Text.Json;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests;

/// <summary>The collector's console log as an operator configures it: JSON for log shippers, one line per written file.</summary>
public sealed class ConsoleLogTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly HttpClient _client = new();

    public void Dispose()
    {
        _client.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task FormatterNameJson_InTheYamlFile_GivesOneJsonObjectPerLine_WithTheWrittenFilesFields()
    {
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), """
            exporter:
              kind: file
              name: exporter-0
              outputDir: ./exports
            Logging:
              Console:
                FormatterName: json
            """, TestContext.Current.CancellationToken);
        using var collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string address = await collector.WaitUntilListeningAsync();
        using var body = new StringContent("""{"events":[{"kind":"feature","key":"a","value":1},{"kind":"feature","key":"b","value":2}]}""", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync(address + "/v1/data/collector", body, TestContext.Current.CancellationToken)).StatusCode);

        collector.Signal("TERM");
        Assert.Equal(0, await collector.WaitForExitAsync());

        string[] lines = collector.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(lines);
        var written = new List<JsonElement>();
        foreach (string line in lines)
        {
            using JsonDocument entry = JsonDocument.Parse(line); // every line is one JSON object
            if (entry.RootElement.GetProperty("EventId").GetInt32() == 14 && entry.RootElement.GetProperty("Category").GetString()!.StartsWith("FlagExport", StringComparison.Ordinal))
            {
                written.Add(entry.RootElement.GetProperty("State").Clone());
            }
        }

        JsonElement state = Assert.Single(written);
        string file = Assert.Single(Directory.GetFiles(_directory.Combine("exports")));
        Assert.Equal(file, state.GetProperty("Location").GetString());
        Assert.Equal("2", state.GetProperty("EventCount").ToString());
        Assert.Equal(new FileInfo(file).Length.ToString(System.Globalization.CultureInfo.InvariantCulture), state.GetProperty("ByteCount").ToString());
        Assert.Equal("exporter-0", state.GetProperty("ExporterName").GetString());
    }
}

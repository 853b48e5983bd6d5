using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Ingestion;

/// <summary>Nothing a client sends makes the collector fail: mutated bodies get 200 or 400, never a server error.</summary>
public sealed class MalformedInputFuzzTests
{
    private const string Seed = """
        {"meta":{"env":"prod","n":1.5,"ok":true},"events":[
          {"kind":"feature","contextKind":"user","userKey":"u1","creationDate":1733230547728,"key":"f","variation":"v","value":{"a":[1,"x",null]},"default":false,"version":"v1","source":"SDK"},
          {"kind":"tracking","userKey":"u2","creationDate":1680246020,"key":"t","evaluationContext":{"k":"é"},"trackingEventDetails":{"d":2}}
        ]}
        """;

    [Fact]
    public async Task MutatedBodies_Get200Or400_AndTheServiceKeepsWorking()
    {
        await using TestCollector collector = await TestCollector.StartAsync();
        var random = new Random(20261125);
        byte[] seed = Encoding.UTF8.GetBytes(Seed);
        byte[] interesting = "{}[]\",:\\0-1e9.tfn \u00e9\uD83D\uDE00"u8.ToArray();
        var statuses = new Dictionary<HttpStatusCode, int>();

        for (int i = 0; i < 1500; i++)
        {
            byte[] body = BodyMutations.Mutate(seed, interesting, random);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            HttpResponseMessage response = await collector.Client.PostAsync("/v1/data/collector", content, TestContext.Current.CancellationToken);
            Assert.True(
                response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest,
                $"{response.StatusCode} for {Encoding.UTF8.GetString(body)}");
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
        }

        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 50, "some mutations stay valid");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 50, "most mutations break the JSON");
        Assert.Equal(HttpStatusCode.OK, (await collector.PostAsync(Seed)).StatusCode);
    }
}

using System.Net;
using System.Text;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Service;

/// <summary>The real executable with an s3 exporter from YAML: SIGTERM uploads what is buffered; a bad bucket stops start-up.</summary>
public sealed class S3CollectorProcessTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Sigterm_UploadsTheBufferedEvents_AndExitsZero()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("sigterm");
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            exporters:
              - kind: s3
                bucket: {s3.Bucket}
                path: {prefix}
                serviceUrl: {s3.Endpoint}
                forcePathStyle: true
                region: {s3.Region}
                format: csv
                flushInterval: 3600000
            """, TestContext.Current.CancellationToken);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);
        string address = await collector.WaitUntilListeningAsync();
        using var client = new HttpClient();
        HttpResponseMessage response = await client.PostAsync(
            address + "/v1/data/collector",
            new StringContent("""{"events":[{"kind":"feature","contextKind":"user","userKey":"u","creationDate":1700000000,"key":"k","variation":"v","value":1}]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await s3.ReadAllAsync(prefix));

        collector.Signal("TERM");

        Assert.Equal(0, await collector.WaitForExitAsync());
        (string key, byte[] body) = Assert.Single(await s3.ReadAllAsync(prefix));
        Assert.EndsWith(".csv", key, StringComparison.Ordinal);
        Assert.Equal("feature;user;u;1700000000;k;v;1;false;PROVIDER_CACHE\n", Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task VerifyBucketOnStart_MissingBucket_StopsStartUp_WithExitCode1()
    {
        S3Server s3 = await S3Server.RequireAsync();
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            exporters:
              - kind: s3
                bucket: no-such-bucket-{Guid.NewGuid():N}
                serviceUrl: {s3.Endpoint}
                forcePathStyle: true
                region: {s3.Region}
                verifyBucketOnStart: true
            """, TestContext.Current.CancellationToken);
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);

        Assert.Equal(1, await collector.WaitForExitAsync());
        Assert.Contains("Cannot start the collector: ", collector.Output, StringComparison.Ordinal);
        Assert.Contains("no-such-bucket-", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")!, collector.Output, StringComparison.Ordinal);
    }
}

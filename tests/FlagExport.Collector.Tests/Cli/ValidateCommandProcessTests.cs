using FlagExport.Collector.Configuration;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Cli;

/// <summary><c>validate</c>: the start-up checks, every problem at once, nothing started; with connectivity, buckets and folders.</summary>
public sealed class ValidateCommandProcessTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task GoodConfiguration_ExitsZero_NamesTheExporters_AndCreatesNothing()
    {
        await WriteAsync("""
            exporters:
              - kind: file
                outputDir: out
                format: csv
            bufferDirectory: buffer
            """);

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml"]);

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Contains("configuration OK", collector.Output, StringComparison.Ordinal);
        Assert.Contains($"{ExporterNames.Derive("file:" + _directory.Combine("out"))} (exporters[0]): file, CSV", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", collector.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_directory.Combine("out")));
        Assert.False(Directory.Exists(_directory.Combine("buffer")));
    }

    [Fact]
    public async Task BadConfiguration_ExitsOne_ListingEveryProblem()
    {
        await WriteAsync("""
            apiKey: typo
            bufferDirectory: "  "
            exporters:
              - kind: file
                format: xml
              - kind: s3
                flushInterval: -5
            """);

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains("Invalid configuration:", collector.Output, StringComparison.Ordinal);
        Assert.Contains("apiKey: unknown key", collector.Output, StringComparison.Ordinal);
        Assert.Contains("exporters[0].format: 'xml' is not a valid format", collector.Output, StringComparison.Ordinal);
        Assert.Contains("exporters[1].flushInterval: must be greater than zero; got '-00:00:00.0050000' (-5 milliseconds as written).", collector.Output, StringComparison.Ordinal);
        Assert.Contains("exporters[1].bucket: is required", collector.Output, StringComparison.Ordinal);
        Assert.Contains("bufferDirectory: must name a folder; got '  '.", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("configuration OK", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutConfig_IsAUsageError()
    {
        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains("--config", collector.Output, StringComparison.Ordinal);
        Assert.Contains("Usage:", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConnectivity_UnwritableFolder_ExitsOne_NamingOutputDirAndThePath()
    {
        await WriteAsync("""
            exporters:
              - kind: file
                outputDir: ok
              - kind: file
                outputDir: /proc/x
            """);

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml", "--check-connectivity"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains("exporters[1].outputDir: the folder '/proc/x' cannot be created or written", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("exporters[0]", collector.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_directory.Combine("ok"))); // created, and the probe file deleted
    }

    [Fact]
    public async Task CheckConnectivity_ExistingAndMissingBucket_ReportsOnlyTheMissingOne()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string missing = $"no-such-bucket-{Guid.NewGuid():N}";
        await WriteAsync($"""
            exporters:
              - kind: s3
                bucket: {s3.Bucket}
                serviceUrl: {s3.Endpoint}
                forcePathStyle: true
                region: {s3.Region}
              - kind: s3
                bucket: {missing}
                serviceUrl: {s3.Endpoint}
                forcePathStyle: true
                region: {s3.Region}
            """);

        using (CollectorProcess good = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml"]))
        {
            Assert.Equal(0, await good.WaitForExitAsync()); // no request without --check-connectivity
        }

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml", "--check-connectivity"]);

        Assert.Equal(ExitCodes.StartFailed, await collector.WaitForExitAsync());
        Assert.Contains($"exporters[1].bucket: S3 bucket '{missing}'", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("exporters[0]", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")!, collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConnectivity_ExistingBucket_ExitsZero()
    {
        S3Server s3 = await S3Server.RequireAsync();
        await WriteAsync($"""
            exporters:
              - kind: s3
                bucket: {s3.Bucket}
                serviceUrl: {s3.Endpoint}
                forcePathStyle: true
                region: {s3.Region}
            """);

        using CollectorProcess collector = CollectorProcess.Start(_directory.Path, ["validate", "--config", "collector.yaml", "--check-connectivity"]);

        Assert.Equal(0, await collector.WaitForExitAsync());
        Assert.Contains("configuration and connectivity OK", collector.Output, StringComparison.Ordinal);
        Assert.Contains($"s3://{s3.Bucket}/", collector.Output, StringComparison.Ordinal);
    }

    private Task WriteAsync(string yaml) =>
        File.WriteAllTextAsync(_directory.Combine("collector.yaml"), yaml, TestContext.Current.CancellationToken);
}

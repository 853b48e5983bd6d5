using System.Net;
using System.Text;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Exporters;

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
        try
        {
            using CollectorProcess collector = await YamlCollector.ServeAsync(_directory, $"""
                exporters:
                  - kind: s3
                    bucket: {s3.Bucket}
                    path: {prefix}
                    serviceUrl: {s3.Endpoint}
                    forcePathStyle: true
                    region: {s3.Region}
                    format: csv
                    flushInterval: 3600000
                """);
            Assert.Equal(HttpStatusCode.OK, (await collector.PostEventsAsync(YamlCollector.OneFeatureEvent)).StatusCode);
            Assert.Empty(await s3.ReadAllAsync(prefix));

            Assert.Equal(0, await collector.StopAsync());
            (string key, byte[] body) = Assert.Single(await s3.ReadAllAsync(prefix));
            Assert.EndsWith(".csv", key, StringComparison.Ordinal);
            Assert.Equal(YamlCollector.OneFeatureEventCsv, Encoding.UTF8.GetString(body));
        }
        finally
        {
            await s3.DeleteAllAsync(prefix);
        }
    }

    /// <summary>Every variable through which the AWS SDK could find credentials or a region other than the shared files.</summary>
    private static readonly string[] AwsCredentialVariables =
    [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    ];

    [Fact]
    public async Task AwsProfile_FromTheSharedFiles_IsWhereTheCredentialsComeFrom_WithoutKeyVariables()
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("aws-profile");
        try
        {
            // The keys only in the named profile: no [default] profile, no key variables, no instance metadata.
            await File.WriteAllTextAsync(_directory.Combine("credentials"), $"""
                [flagexport-test]
                aws_access_key_id = {Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID")}
                aws_secret_access_key = {Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")}
                """, TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(_directory.Combine("config"), $"""
                [profile flagexport-test]
                region = {s3.Region}
                """, TestContext.Current.CancellationToken);
            using CollectorProcess collector = await YamlCollector.ServeAsync(_directory, $"""
                exporters:
                  - kind: s3
                    bucket: {s3.Bucket}
                    path: {prefix}
                    serviceUrl: {s3.Endpoint}
                    forcePathStyle: true
                    verifyBucketOnStart: true
                    flushInterval: 3600000
                """, ProfileEnvironment("flagexport-test"), AwsCredentialVariables);
            _ = await collector.WaitUntilListeningAsync();
            Assert.Contains("S3 bucket '" + s3.Bucket + "' exists and the credentials can access it.", collector.Output, StringComparison.Ordinal);
            HttpResponseMessage response = await collector.PostEventsAsync(
                """{"events":[{"kind":"feature","contextKind":"user","userKey":"profile-user","creationDate":1700000000,"key":"k","variation":"v","value":1}]}""");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            Assert.Equal(0, await collector.StopAsync());
            (string key, byte[] body) = Assert.Single(await s3.ReadAllAsync(prefix));
            Assert.EndsWith(".json", key, StringComparison.Ordinal);
            Assert.Equal(
                """{"kind":"feature","contextKind":"user","userKey":"profile-user","creationDate":1700000000,"key":"k","variation":"v","value":1,"default":false,"version":"","source":"PROVIDER_CACHE"}""" + "\n",
                Encoding.UTF8.GetString(body));
        }
        finally
        {
            await s3.DeleteAllAsync(prefix);
        }
    }

    [Fact]
    public async Task AwsProfile_NotInTheSharedFiles_StopsStartUp_WithExitCode1()
    {
        // The control of the test above: the same files, another profile name, so no credentials anywhere.
        S3Server s3 = await S3Server.RequireAsync();
        await File.WriteAllTextAsync(_directory.Combine("credentials"), $"""
            [flagexport-test]
            aws_access_key_id = {Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID")}
            aws_secret_access_key = {Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")}
            """, TestContext.Current.CancellationToken);
        using CollectorProcess collector = await YamlCollector.ServeAsync(_directory, $"""
            exporters:
              - kind: s3
                bucket: {s3.Bucket}
                serviceUrl: {s3.Endpoint}
                forcePathStyle: true
                region: {s3.Region}
                verifyBucketOnStart: true
            """, ProfileEnvironment("no-such-profile"), AwsCredentialVariables);

        Assert.Equal(1, await collector.WaitForExitAsync());
        Assert.Contains("Cannot start the collector: ", collector.Output, StringComparison.Ordinal);
        Assert.Contains("Unable to find the \"no-such-profile\" profile", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingBucket_StopsStartUp_ByDefault_WithExitCode1()
    {
        S3Server s3 = await S3Server.RequireAsync();
        using CollectorProcess collector = await YamlCollector.ServeAsync(_directory, $"""
            exporters:
              - kind: s3
                bucket: no-such-bucket-{Guid.NewGuid():N}
                serviceUrl: {s3.Endpoint}
                forcePathStyle: true
                region: {s3.Region}
            """);

        Assert.Equal(1, await collector.WaitForExitAsync());
        Assert.Contains("Cannot start the collector: ", collector.Output, StringComparison.Ordinal);
        Assert.Contains("no-such-bucket-", collector.Output, StringComparison.Ordinal);

        // The failure in one line, without the host's Error entry and the exception's stack.
        Assert.DoesNotContain("Hosting failed to start", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", collector.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")!, collector.Output, StringComparison.Ordinal);
    }

    /// <summary>The child's AWS environment for <paramref name="profile"/> of the test's credentials and config files, and no instance role.</summary>
    private Dictionary<string, string> ProfileEnvironment(string profile) => new()
    {
        ["AWS_PROFILE"] = profile,
        ["AWS_SHARED_CREDENTIALS_FILE"] = _directory.Combine("credentials"),
        ["AWS_CONFIG_FILE"] = _directory.Combine("config"),
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };
}

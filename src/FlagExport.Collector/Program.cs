using FlagExport.Collector;
using FlagExport.Collector.Configuration;
using FlagExport.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

// The collector: `dotnet run --project src/FlagExport.Collector` listens on http://127.0.0.1:1031 and writes JSON lines
// to ./exports. Exit codes: 0 after a clean stop (Ctrl+C, SIGTERM), 1 when the configuration is invalid or the
// address cannot be bound or an S3 bucket checked at start cannot be used; the reason is printed to standard error.
try
{
    WebApplication app = CollectorApp.Build(args);
    await app.RunAsync().ConfigureAwait(false);
    return 0;
}
catch (CollectorConfigurationException exception)
{
    await Console.Error.WriteLineAsync(exception.Message).ConfigureAwait(false);
    return 1;
}
catch (OptionsValidationException exception)
{
    await Console.Error.WriteLineAsync("Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, exception.Failures.Select(f => "  " + f))).ConfigureAwait(false);
    return 1;
}
catch (S3ExportException exception)
{
    // verifyBucketOnStart: a missing bucket, wrong credentials or an unreachable endpoint stop the start-up.
    await Console.Error.WriteLineAsync($"Cannot start the collector: {exception.Message}").ConfigureAwait(false);
    return 1;
}
catch (IOException exception)
{
    await Console.Error.WriteLineAsync($"Cannot start the collector: {exception.Message}").ConfigureAwait(false);
    return 1;
}

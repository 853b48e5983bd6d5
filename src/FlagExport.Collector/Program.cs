using FlagExport.Collector;
using FlagExport.Collector.Configuration;
using FlagExport.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

// The collector: `dotnet run --project src/FlagExport.Collector` listens on http://127.0.0.1:1031 and writes JSON lines
// to ./exports. Exit codes: 0 after a clean stop (Ctrl+C, SIGTERM), 1 when the configuration is invalid or the
// address cannot be bound or an S3 bucket checked at start cannot be used; the reason is printed to standard error.
// `replay-dead-letters [--config file.yaml]` writes the dead letters again and exits: 0 when all were written, else 1.
try
{
    if (args is [ReplayCommand.Name, ..])
    {
        return await ReplayCommand.RunAsync(args[1..], Console.Out, Console.Error).ConfigureAwait(false);
    }

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
    await Console.Error.WriteLineAsync(new CollectorConfigurationException([.. exception.Failures]).Message).ConfigureAwait(false);
    return 1;
}
catch (Exception exception) when (exception is S3ExportException or IOException)
{
    // verifyBucketOnStart: a missing bucket, wrong credentials or an unreachable endpoint; an address already in use.
    await Console.Error.WriteLineAsync($"Cannot start the collector: {exception.Message}").ConfigureAwait(false);
    return 1;
}

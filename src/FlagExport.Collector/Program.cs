using FlagExport.Collector;
using FlagExport.Collector.Configuration;
using FlagExport.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

// The collector: `dotnet run --project src/FlagExport.Collector` listens on http://127.0.0.1:1031 and writes JSON lines
// to ./exports. Exit codes (ExitCodes):
//   0  a clean stop (Ctrl+C, SIGTERM): every event accepted was written, or kept in the durable buffer for the next
//      start. Dead letters written during the run are logged as a warning but still exit 0: they are on disk.
//   1  the configuration is invalid, the address cannot be bound, or an S3 bucket checked at start cannot be used;
//      the reason is printed to standard error.
//   3  the stop left events neither written nor in the durable buffer (the shutdown deadline came first): they are
//      lost, and logged with their count per exporter.
// `replay-dead-letters [--config file.yaml]` writes the dead letters again through their exporters and exits: 0 when
// all were written, 1 otherwise (the reason on standard error).
try
{
    if (args is [ReplayCommand.Name, ..])
    {
        return await ReplayCommand.RunAsync(args[1..], Console.Out, Console.Error).ConfigureAwait(false);
    }

    WebApplication app = CollectorApp.Build(args);
    ShutdownOutcome outcome = ShutdownOutcome.Watch(app);
    await app.RunAsync().ConfigureAwait(false);
    return outcome.ExitCode;
}
catch (CollectorConfigurationException exception)
{
    await Console.Error.WriteLineAsync(exception.Message).ConfigureAwait(false);
    return ExitCodes.StartFailed;
}
catch (OptionsValidationException exception)
{
    await Console.Error.WriteLineAsync(new CollectorConfigurationException([.. exception.Failures]).Message).ConfigureAwait(false);
    return ExitCodes.StartFailed;
}
catch (Exception exception) when (exception is S3ExportException or IOException)
{
    // verifyBucketOnStart: a missing bucket, wrong credentials or an unreachable endpoint; an address already in use.
    await Console.Error.WriteLineAsync($"Cannot start the collector: {exception.Message}").ConfigureAwait(false);
    return ExitCodes.StartFailed;
}

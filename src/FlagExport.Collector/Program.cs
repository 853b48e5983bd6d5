using FlagExport.Collector;
using FlagExport.Collector.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

// The collector: `dotnet run --project src/FlagExport.Collector` listens on http://127.0.0.1:1031 and writes JSON lines
// to ./exports. Exit codes: 0 after a clean stop (Ctrl+C, SIGTERM), 1 when the configuration is invalid or the
// address cannot be bound; the reason is printed to standard error.
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
catch (IOException exception)
{
    await Console.Error.WriteLineAsync($"Cannot start the collector: {exception.Message}").ConfigureAwait(false);
    return 1;
}

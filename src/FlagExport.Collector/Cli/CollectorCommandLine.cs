using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using FlagExport.Collector.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FlagExport.Collector.Cli;

/// <summary>
/// The collector's command line: with no subcommand it serves; <c>validate</c> checks a configuration;
/// <c>replay-dead-letters</c> writes dead letters again; <c>buffer drop-backlog NAME</c> sets the backlog of a removed
/// exporter aside as dead letters. <c>--help</c>/<c>-h</c> and <c>--version</c> print and exit 0
/// before anything is built, so they never listen. An unknown option or argument prints the error and the usage on
/// standard error and exits <see cref="ExitCodes.StartFailed"/>.
/// </summary>
/// <remarks>
/// Configuration pairs (<c>--exporters:0:kind file</c>, <c>--maxRequestBodySize 1024</c>) are taken out before parsing
/// (<see cref="ConfigurationArguments"/>) and handed to the host with the declared <c>--config</c> and <c>--urls</c>, so
/// the host's configuration reads exactly what it read before; parser-only flags such as <c>--check-connectivity</c>
/// never reach it, since the command-line provider would take the next token as their value.
/// </remarks>
internal sealed class CollectorCommandLine
{
    private readonly Option<string> _config = new("--config") { Description = "The YAML configuration file (relay proxy keys).", HelpName = "file" };
    private readonly Option<string> _urls = new("--urls") { Description = "The addresses to listen on, such as http://127.0.0.1:1031 (';' between several).", HelpName = "urls" };
    private readonly Option<string> _validateConfig = new("--config") { Description = "The YAML configuration file to check.", HelpName = "file", Required = true };
    private readonly Option<bool> _checkConnectivity = new("--check-connectivity") { Description = "Also check each S3 bucket (HeadBucket), each Azure Blob container, that each webhook endpoint answers HTTP (HEAD), and that each outputDir can be created and written." };
    private readonly Option<string> _replayConfig = new("--config") { Description = "The YAML configuration file the collector runs with.", HelpName = "file" };
    private readonly Option<string> _replayExporter = new("--exporter")
    {
        Description = "Write every letter through this configured exporter instead of the one that set it aside (for letters of an exporter that was removed).",
        HelpName = "name",
    };

    private readonly Option<string> _dropConfig = new("--config") { Description = "The YAML configuration file the collector runs with.", HelpName = "file" };
    private readonly Argument<string> _dropExporter = new("name") { Description = "The exporter, no longer configured, whose backlog to set aside." };
    private readonly ConfigurationArguments _arguments;
    private readonly TextWriter _output;
    private readonly TextWriter _error;

    private CollectorCommandLine(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        _arguments = ConfigurationArguments.Split(args, new HashSet<string>(StringComparer.Ordinal) { "--config", "--urls", "--version", "--help", "--check-connectivity", "--exporter" });
        _output = output;
        _error = error;
    }

    /// <summary>Parses <paramref name="args"/> and runs the command; returns the exit code.</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error)
    {
        var commandLine = new CollectorCommandLine(args, output, error);
        RootCommand root = commandLine.CreateRoot();
        // No response files: the host reads the raw pairs, which must be the tokens the parser saw.
        ParseResult result = root.Parse(commandLine._arguments.ForParser, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var invocation = new InvocationConfiguration
        {
            // The host handles SIGINT and SIGTERM itself (graceful drain within its ShutdownTimeout); the parser's own
            // handler would cancel the action and end the process after its timeout instead.
            ProcessTerminationTimeout = null,
            Output = result.Errors.Count > 0 ? error : output, // usage after an error goes to standard error
            Error = error,
        };
        return result.InvokeAsync(invocation);
    }

    private RootCommand CreateRoot()
    {
        var root = new RootCommand(
            "FlagExport collector: receives go-feature-flag events on /v1/data/collector and exports them to files or S3. "
            + "Other configuration keys are accepted as --Section:Key value (or a top-level key such as --maxRequestBodySize 1024).")
        {
            _config,
            _urls,
        };
        ReplaceVersionAction(root);
        root.SetAction((result, _) => ServeAsync(HostArgs(result, _config, _urls)));

        var validate = new Command(ValidateCommand.Name, "Check a configuration as start-up does, without starting anything; exit 0 when valid, 1 with every problem otherwise.")
        {
            _validateConfig,
            _checkConnectivity,
        };
        validate.SetAction((result, cancellationToken) =>
            ValidateCommand.RunAsync(HostArgs(result, _validateConfig, null), result.GetValue(_checkConnectivity), _output, _error, cancellationToken));
        root.Add(validate);

        var replay = new Command(ReplayCommand.Name, "Write the dead letters again through their exporters, then exit: 0 when all were written, 1 otherwise.")
        {
            _replayConfig,
            _replayExporter,
        };
        replay.SetAction((result, cancellationToken) => RunReplayAsync(HostArgs(result, _replayConfig, null), result.GetValue(_replayExporter), cancellationToken));
        root.Add(replay);

        var dropBacklog = new Command(DropBacklogCommand.Name,
            "Set aside as dead letters the events the durable buffer holds for an exporter removed from the configuration, and remove its cursor; exit 0 when done, 1 otherwise.")
        {
            _dropConfig,
            _dropExporter,
        };
        dropBacklog.SetAction((result, cancellationToken) =>
            DropBacklogCommand.RunAsync(HostArgs(result, _dropConfig, null), result.GetValue(_dropExporter)!, _output, _error, cancellationToken));
        var buffer = new Command(DropBacklogCommand.Group, "Operations on the durable buffer; run them while no collector uses it.") { dropBacklog };
        root.Add(buffer);
        foreach (Command command in new Command[] { root, validate, replay, dropBacklog })
        {
            // Only the command that was parsed validates: each reports the configuration keys given without a value.
            command.Validators.Add(result =>
            {
                foreach (string problem in _arguments.Errors)
                {
                    result.AddError(problem);
                }
            });
        }

        return root;
    }

    /// <summary>The host's command line: the declared options that are configuration, then the configuration pairs.</summary>
    private string[] HostArgs(ParseResult result, Option<string> config, Option<string>? urls)
    {
        var args = new List<string>();
        if (result.GetValue(config) is { } file)
        {
            args.AddRange(["--" + CollectorApp.ConfigKey, file]);
        }

        if (urls is not null && result.GetValue(urls) is { } addresses)
        {
            args.AddRange(["--urls", addresses]);
        }

        args.AddRange(_arguments.Pairs);
        return [.. args];
    }

    private async Task<int> ServeAsync(string[] args)
    {
        ShutdownOutcome? outcome = null;
        Func<string, string>? rename = null;
        try
        {
            WebApplication app = CollectorApp.Build(args);
            rename = RenameFor(app);
            outcome = ShutdownOutcome.Watch(app);
            using PosixSignalRegistration hangUp = HangUpSignal.StopOnHangUp(app);
            await app.RunAsync().ConfigureAwait(false);
            return outcome.ExitCode;
        }
        catch (Exception exception) when (outcome is { Started: true })
        {
            // Once started, an error while stopping is not a start failure: the exit code says what became of the events.
            return await outcome.AfterFailedStopAsync(exception, _error).ConfigureAwait(false);
        }
        catch (Exception exception) when (StartFailure.Describe(exception, rename) is { } message)
        {
            await _error.WriteLineAsync(message).ConfigureAwait(false);
            return ExitCodes.StartFailed;
        }
    }

    /// <summary>
    /// Renames a library key to the entry's key with what the collector read, taken before it runs: the host disposes
    /// its services when its start fails. The configuration's values stay readable; should they not, the failure is
    /// printed as the library wrote it.
    /// </summary>
    private static Func<string, string> RenameFor(WebApplication app)
    {
        RelayProxyAliases aliases = app.Services.GetRequiredService<CollectorSettings>().Aliases;
        IConfiguration configuration = app.Configuration;
        return failure =>
        {
            try
            {
                return aliases.Rename(failure, configuration);
            }
            catch (ObjectDisposedException)
            {
                return failure;
            }
        };
    }

    private async Task<int> RunReplayAsync(string[] args, string? exporter, CancellationToken cancellationToken)
    {
        try
        {
            return await ReplayCommand.RunAsync(args, _output, _error, exporter, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (StartFailure.Describe(exception) is { } message)
        {
            await _error.WriteLineAsync(message).ConfigureAwait(false);
            return ExitCodes.StartFailed;
        }
    }

    /// <summary><c>--version</c> prints the informational version, the one <c>/info</c> reports, in full.</summary>
    private void ReplaceVersionAction(RootCommand root)
    {
        foreach (Option option in root.Options)
        {
            if (option is VersionOption version)
            {
                version.Action = new PrintVersion(_output);
            }
        }
    }

    private sealed class PrintVersion(TextWriter output) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            output.WriteLine(CollectorApp.VersionOf(typeof(CollectorApp).Assembly));
            return ExitCodes.Success;
        }
    }
}

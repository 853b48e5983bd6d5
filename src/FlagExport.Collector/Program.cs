using FlagExport.Collector.Cli;

// The collector: `dotnet run --project src/FlagExport.Collector` listens on http://127.0.0.1:1031, keeps what it
// acknowledges in the durable buffer ./buffer (`bufferDirectory: ""` or none: memory) and writes JSON lines to ./exports. `--help` lists the options and subcommands (CollectorCommandLine). Exit codes (ExitCodes):
//   0  a clean stop (Ctrl+C, SIGTERM, SIGQUIT, SIGHUP): every event accepted was written, or kept in the durable
//      buffer for the next start, even when the stop itself met an error (which is printed, never as a start failure). Dead letters written during the run are logged as a warning but still exit 0: they are on disk.
//      Also --help, --version and a valid `validate`.
//   1  the configuration is invalid, the address cannot be bound, an S3 bucket, an outputDir or the buffer folder
//      checked at start cannot be used (or another process holds the buffer), or the command line has an unknown option or argument; the reason is printed to standard error.
//   3  the stop left events neither written nor in the durable buffer (the shutdown deadline came first): they are
//      lost, and logged with their count per exporter.
// `validate --config file.yaml [--check-connectivity]` checks a configuration without starting anything: 0 or 1.
// `replay-dead-letters [--config file.yaml]` writes the dead letters again through their exporters and exits: 0 when
// all were written, 1 otherwise (the reason on standard error).
return await CollectorCommandLine.InvokeAsync(args, Console.Out, Console.Error).ConfigureAwait(false);

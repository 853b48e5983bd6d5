using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace FlagExport.Collector.Tests.Support;

/// <summary>
/// The built collector executable (<c>dotnet FlagExport.Collector.dll</c>, what <c>dotnet run</c> starts), run in its own
/// process with a chosen working folder, so that start-up, signals and exit codes are the real ones.
/// </summary>
public sealed partial class CollectorProcess : IDisposable
{
    private static readonly HttpClient Client = new();

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CollectorProcess(
        string workingDirectory, IEnumerable<string> dotnetArgs, IDictionary<string, string>? environment, IEnumerable<string>? unset = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in dotnetArgs)
        {
            start.ArgumentList.Add(arg);
        }

        // A clean environment for what the collector reads: no inherited address or environment name.
        foreach (string name in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "HTTP_PORTS", "DOTNET_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT" })
        {
            _ = start.Environment.Remove(name);
        }

        foreach (string name in unset ?? [])
        {
            _ = start.Environment.Remove(name);
        }

        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
        {
            start.Environment[variable.Key] = variable.Value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _ = _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The collector's project folder.</summary>
    public static string ProjectDirectory
    {
        get
        {
            DirectoryInfo? root = new(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "FlagExport.slnx")))
            {
                root = root.Parent;
            }

            return Path.Combine(root!.FullName, "src", "FlagExport.Collector");
        }
    }

    /// <summary>The build configuration of these tests (Debug or Release), which built the collector too.</summary>
    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The collector's DLL in its own build output, built with the same configuration as these tests.</summary>
    public static string CollectorDll =>
        Path.Combine(ProjectDirectory, "bin", Configuration, new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name, "FlagExport.Collector.dll");

    /// <summary>
    /// The most resident memory the process has had so far (<c>VmHWM</c> of <c>/proc/&lt;pid&gt;/status</c>), in bytes.
    /// Read it while the process runs.
    /// </summary>
    public long PeakResidentBytes()
    {
        foreach (string line in File.ReadLines($"/proc/{_process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                // "VmHWM:   123456 kB"
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"No VmHWM in /proc/{_process.Id}/status.");
    }

    /// <summary>Everything written to standard output and error so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the built DLL with <paramref name="args"/>, in the tests' environment plus <paramref name="environment"/>,
    /// without the variables named in <paramref name="unset"/> (for example the AWS keys, to test another credential source).
    /// </summary>
    public static CollectorProcess Start(
        string workingDirectory, string[] args, IDictionary<string, string>? environment = null, IEnumerable<string>? unset = null) =>
        new(workingDirectory, [CollectorDll, .. args], environment, unset);

    /// <summary>
    /// Starts the README's main command, <c>dotnet run --project src/FlagExport.Collector</c>, given as its arguments after
    /// <c>dotnet</c>: run from the repository root as the README says (its <c>--project</c> path is resolved there), without
    /// its build step (the tests built it) and with the tests' configuration. Signals sent to it reach the collector, as in
    /// a terminal.
    /// </summary>
    public static CollectorProcess StartMainCommand(string workingDirectory, IReadOnlyList<string> dotnetRunArguments)
    {
        if (dotnetRunArguments.Count == 0 || dotnetRunArguments[0] != "run")
        {
            throw new ArgumentException($"Not a 'dotnet run' command: '{string.Join(' ', dotnetRunArguments)}'.", nameof(dotnetRunArguments));
        }

        var args = new List<string> { "run", "--no-build", "--configuration", Configuration };
        for (int i = 1; i < dotnetRunArguments.Count; i++)
        {
            bool isProject = i > 1 && dotnetRunArguments[i - 1] == "--project";
            args.Add(isProject ? Path.GetFullPath(Path.Combine(RepositoryPaths.Root, dotnetRunArguments[i])) : dotnetRunArguments[i]);
        }

        return new(workingDirectory, args, null);
    }

    /// <summary>The address from the start-up log line, once the collector listens.</summary>
    public async Task<string> WaitUntilListeningAsync()
    {
        Task exited = _process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Task finished = await Task.WhenAny(_listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        return finished == _listening.Task
            ? await _listening.Task
            : throw new InvalidOperationException($"The collector did not start listening. Output:{Environment.NewLine}{Output}");
    }

    /// <summary>Posts <paramref name="body"/> to the collector's <c>/v1/data/collector</c> once it listens; returns the answer.</summary>
    public async Task<HttpResponseMessage> PostEventsAsync(string body)
    {
        string address = await WaitUntilListeningAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        return await Client.PostAsync(address + "/v1/data/collector", content, TestContext.Current.CancellationToken);
    }

    /// <summary>Sends SIGTERM, as an orchestrator stops a service, and returns the exit code.</summary>
    public Task<int> StopAsync()
    {
        Signal("TERM");
        return WaitForExitAsync();
    }

    /// <summary>Waits until the output contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>Sends a signal (<c>TERM</c>, <c>INT</c>) as an orchestrator or Ctrl+C does.</summary>
    public void Signal(string name)
    {
        using Process kill = Process.Start("kill", [$"-{name}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>
    /// Kills the process with SIGKILL, as the OOM killer or a node failure does: no shutdown code runs, nothing more is
    /// written or flushed. Returns once it has exited.
    /// </summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Waits for the process to end and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _ = _output.AppendLine(line);
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _ = _listening.TrySetResult(match.Groups[1].Value);
        }
    }

    [GeneratedRegex(@"FlagExport collector listening on (\S+);")]
    private static partial Regex ListeningLine();
}

using System.Diagnostics;

namespace FlagExport.Testing;

/// <summary>Runs npm and node scripts for the tests: output captured, loopback only, bounded in time.</summary>
public static class NodeProcess
{
    private static readonly string[] ProxyVariables = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy", "GRPC_PROXY", "grpc_proxy"];

    /// <summary>
    /// Prepares <paramref name="start"/> to run with its output redirected and without the environment's proxies:
    /// scripts talk to a collector on the loopback address, never through a proxy.
    /// </summary>
    public static ProcessStartInfo Redirected(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        foreach (string name in ProxyVariables)
        {
            _ = start.Environment.Remove(name);
        }

        return start;
    }

    /// <summary>
    /// Runs a process to its end (bounded by <paramref name="timeout"/>, then killed with its children) and returns its
    /// exit code and output; <see cref="NpmUnavailableException"/> when the program cannot be started at all.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = new Process { StartInfo = Redirected(start) };
        try
        {
            _ = process.Start();
        }
        catch (System.ComponentModel.Win32Exception missing)
        {
            throw new NpmUnavailableException($"'{start.FileName}' cannot be started: {missing.Message}");
        }

        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{start.FileName} {string.Join(' ', start.ArgumentList)}' did not finish within {timeout}. Output: {await output} {await error}");
        }

        return (process.ExitCode, await output, await error);
    }
}

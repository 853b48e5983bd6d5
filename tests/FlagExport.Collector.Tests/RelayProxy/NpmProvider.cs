using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace FlagExport.Collector.Tests.RelayProxy;

/// <summary>
/// go-feature-flag's OpenFeature JS provider and the OpenFeature server SDK, at pinned versions, installed with npm once
/// into a cache folder under the system temp folder that later runs reuse. The folder is named by a hash of what is
/// installed and appears whole or not at all (installed beside it, then renamed), so parallel runs never see half an
/// install. When npm or node cannot be used the test fails under <c>CI=true</c> and is skipped elsewhere, with the reason.
/// </summary>
public static class NpmProvider
{
    /// <summary>The provider version served by the npm registry that this suite pins.</summary>
    public const string ProviderVersion = "0.7.0";

    /// <summary>The OpenFeature server SDK it runs on.</summary>
    public const string ServerSdkVersion = "1.23.0";

    private static readonly string PackageJson =
        $$$"""{"name":"flagexport-npm-provider-test","private":true,"dependencies":{"@openfeature/go-feature-flag-provider":"{{{ProviderVersion}}}","@openfeature/server-sdk":"{{{ServerSdkVersion}}}"}}""";

    private static readonly Lazy<Task<string>> Installed = new(InstallAsync);

    /// <summary>The script that evaluates flags with the provider (checked in beside this file).</summary>
    public static string ScriptPath
    {
        get
        {
            DirectoryInfo? root = new(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "FlagExport.slnx")))
            {
                root = root.Parent;
            }

            return Path.Combine(root!.FullName, "tests", "FlagExport.Collector.Tests", "RelayProxy", "npm-provider", "evaluate.cjs");
        }
    }

    /// <summary>The <c>node_modules</c> folder holding the provider; a skip (a failure under CI) when it cannot be installed.</summary>
    public static async Task<string> NodeModulesAsync()
    {
        try
        {
            return await Installed.Value;
        }
        catch (NpmUnavailableException unavailable)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"CI=true but the npm provider could not be installed: {unavailable.Message}");
            }

            Assert.Skip($"The npm provider could not be installed: {unavailable.Message}");
            throw;
        }
    }

    /// <summary>Runs a process to its end (bounded by <paramref name="timeout"/>) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        // Loopback only: no proxy from the environment between the provider and the collector.
        foreach (string name in new[] { "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy" })
        {
            _ = start.Environment.Remove(name);
        }

        using var process = new Process { StartInfo = start };
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

    private static async Task<string> InstallAsync()
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(PackageJson)))[..16];
        string cache = Path.Combine(Path.GetTempPath(), "flagexport-npm-cache");
        string folder = Path.Combine(cache, hash);
        string nodeModules = Path.Combine(folder, "node_modules");
        if (Directory.Exists(folder))
        {
            return nodeModules;
        }

        string staging = Path.Combine(cache, $"{hash}.installing-{Guid.NewGuid():N}");
        _ = Directory.CreateDirectory(staging);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(staging, "package.json"), PackageJson);
            var npm = new ProcessStartInfo("npm") { WorkingDirectory = staging };
            foreach (string arg in new[] { "install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock", "--loglevel=error" })
            {
                npm.ArgumentList.Add(arg);
            }

            (int exitCode, string output, string error) result;
            try
            {
                result = await RunAsync(npm, TimeSpan.FromMinutes(5));
            }
            catch (TimeoutException timeout)
            {
                throw new NpmUnavailableException(timeout.Message);
            }

            if (result.exitCode != 0)
            {
                throw new NpmUnavailableException($"npm install exited with {result.exitCode}: {result.output} {result.error}".Trim());
            }

            try
            {
                Directory.Move(staging, folder);
            }
            catch (IOException) when (Directory.Exists(folder))
            {
                // Another run installed the same packages first: use its folder.
            }

            return nodeModules;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }
}

/// <summary>npm or node could not install or run the provider.</summary>
public sealed class NpmUnavailableException(string message) : Exception(message);

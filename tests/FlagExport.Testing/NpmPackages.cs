using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace FlagExport.Testing;

/// <summary>
/// A set of npm packages at pinned versions, installed with npm once into a cache folder under the system temp folder
/// that later runs reuse. The folder is named by a hash of the package.json installed and appears whole or not at all
/// (installed beside it, then renamed), so parallel runs never see half an install. When npm or node cannot be used a
/// test that needs the set fails under <c>CI=true</c> and is skipped elsewhere, with the reason.
/// </summary>
public sealed class NpmPackages
{
    private readonly Lazy<Task<string>> _installed;

    /// <param name="description">What the set is, for skip and failure messages, in lower case ("the npm provider").</param>
    /// <param name="projectName">The name of the package.json that depends on the set.</param>
    /// <param name="dependencies">Each package and its exact version, in the order package.json lists them.</param>
    public NpmPackages(string description, string projectName, params (string Name, string Version)[] dependencies)
    {
        Description = description;
        string packages = string.Join(",", dependencies.Select(d => $"\"{d.Name}\":\"{d.Version}\""));
        PackageJson = $$$"""{"name":"{{{projectName}}}","private":true,"dependencies":{{{{packages}}}}}""";
        _installed = new(InstallAsync);
    }

    /// <summary>What the set is, as the messages name it.</summary>
    public string Description { get; }

    /// <summary>The package.json text installed; its hash names the cache folder.</summary>
    public string PackageJson { get; }

    /// <summary>The <c>node_modules</c> folder holding the set; a skip (a failure under CI) when it cannot be installed.</summary>
    public async Task<string> NodeModulesAsync()
    {
        try
        {
            return await _installed.Value;
        }
        catch (NpmUnavailableException unavailable)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"CI=true but {Description} could not be installed: {unavailable.Message}");
            }

            Assert.Skip($"{char.ToUpperInvariant(Description[0])}{Description[1..]} could not be installed: {unavailable.Message}");
            throw;
        }
    }

    private async Task<string> InstallAsync()
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
                result = await NodeProcess.RunAsync(npm, TimeSpan.FromMinutes(5));
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

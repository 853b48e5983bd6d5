using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.RelayProxy;

/// <summary>
/// go-feature-flag's OpenFeature JS provider and the OpenFeature server SDK, at pinned versions, installed into the
/// tests' npm cache (see <see cref="NpmPackages"/>), and the scripts that evaluate flags with them.
/// </summary>
public static class NpmProvider
{
    /// <summary>The provider version served by the npm registry that this suite pins.</summary>
    public const string ProviderVersion = "0.7.0";

    /// <summary>The OpenFeature server SDK it runs on.</summary>
    public const string ServerSdkVersion = "1.23.0";

    private static readonly NpmPackages Packages = new(
        "the npm provider",
        "flagexport-npm-provider-test",
        ("@openfeature/go-feature-flag-provider", ProviderVersion),
        ("@openfeature/server-sdk", ServerSdkVersion));

    /// <summary>The script that evaluates flags with the provider (checked in beside this file).</summary>
    public static string ScriptPath => RepositoryPaths.TestFile("RelayProxy", "npm-provider", "evaluate.cjs");

    /// <summary>The <c>node_modules</c> folder holding the provider; a skip (a failure under CI) when it cannot be installed.</summary>
    public static Task<string> NodeModulesAsync() => Packages.NodeModulesAsync();
}

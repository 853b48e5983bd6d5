using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.FeatureManagement;

namespace FlagExport.FeatureManagement.Tests.Support;

/// <summary>
/// A started host with Microsoft.FeatureManagement reading <c>feature_management</c> from in-memory JSON configuration,
/// <c>AddFeatureManagement().AddFlagExport()</c>, and a file exporter writing JSON lines into a temporary folder.
/// </summary>
internal sealed class FlagsHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TempDirectory _exports;
    private IServiceScope? _scope;

    private FlagsHost(IHost host, TempDirectory exports)
    {
        _host = host;
        _exports = exports;
    }

    public IServiceProvider Services => _host.Services;

    /// <summary>The feature manager; with scoped feature management, the one of a scope kept for the host's lifetime.</summary>
    public IVariantFeatureManager Features => (_scope ??= _host.Services.CreateScope()).ServiceProvider.GetRequiredService<IVariantFeatureManager>();

    /// <summary>Builds the host; <paramref name="configure"/> runs first, so that its registrations win over TryAdd ones.</summary>
    public static IHost Build(string featureManagementJson, TempDirectory exports, TimeProvider time, Action<IServiceCollection>? configure = null, bool scoped = false)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(featureManagementJson)));
        _ = builder.Services.AddSingleton(time);
        configure?.Invoke(builder.Services);
        _ = (scoped ? builder.Services.AddScopedFeatureManagement() : builder.Services.AddFeatureManagement()).AddFlagExport();
        _ = builder.Services.AddFlagExport(export => export.AddFileExporter("json", file => file.OutputDir = exports.Path));
        return builder.Build();
    }

    public static async Task<FlagsHost> StartAsync(string featureManagementJson, TimeProvider time, Action<IServiceCollection>? configure = null, bool scoped = false)
    {
        var exports = new TempDirectory();
        IHost host = Build(featureManagementJson, exports, time, configure, scoped);
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new FlagsHost(host, exports);
    }

    /// <summary>Writes what the exporter holds and returns every line it has written so far.</summary>
    public async Task<string[]> ExportedLinesAsync()
    {
        await _host.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);
        return _exports.Lines();
    }

    public async ValueTask DisposeAsync()
    {
        _scope?.Dispose();
        await _host.StopAsync(TestContext.Current.CancellationToken);
        _host.Dispose();
        _exports.Dispose();
    }
}

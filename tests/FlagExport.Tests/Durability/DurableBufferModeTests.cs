using FlagExport.Tests.Exporters;
using FlagExport.Tests.Pipeline.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlagExport.Tests.Durability;

/// <summary>
/// The library stays in memory unless asked; <c>FlagExport:BufferDirectory</c> empty or <c>none</c> is memory mode even
/// over <see cref="FlagExportBuilder.UseDurableBuffer"/>, which is how a configuration source overrides a default folder.
/// </summary>
public sealed class DurableBufferModeTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string BufferDirectory => Path.Combine(_folder.Path, "buffer");

    [Fact]
    public async Task WithoutBufferDirectory_TheLibraryHoldsEventsInMemory()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport().AddExporter("memory", _ => new InMemoryExporter());
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        Assert.Null(host.Services.GetRequiredService<ExporterPipelines>().DurableBuffer);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData("")]
    [InlineData("none")]
    [InlineData("None")]
    public async Task EmptyOrNone_InConfiguration_IsMemoryMode_OverTheBuilderCall(string value)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["FlagExport:BufferDirectory"] = value });
        _ = builder.Services.AddFlagExport().UseDurableBuffer(BufferDirectory).AddExporter("memory", _ => new InMemoryExporter());
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        Assert.Null(host.Services.GetRequiredService<ExporterPipelines>().DurableBuffer);
        Assert.False(Directory.Exists(BufferDirectory));
        await host.StopAsync(TestContext.Current.CancellationToken);
    }
}

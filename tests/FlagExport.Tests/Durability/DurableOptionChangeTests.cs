using FlagExport.Tests.Exporters;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlagExport.Tests.Durability;

/// <summary>
/// The durable buffer, a file exporter with <c>MaxBatchBytes</c>: a batch cut into parts, some written, then the output
/// disk full and the process stopped; restarted with other options, it writes each event exactly once.
/// </summary>
public sealed class DurableOptionChangeTests : IDisposable
{
    private readonly TempDirectory _folder = new();
    private readonly TempDirectory _output = new();

    public void Dispose()
    {
        _output.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task Restart_WithOtherMaxBatchBytesAndFormatAfterAFullDisk_WritesEachEventOnce()
    {
        Tmpfs.RequireRoot();
        await Tmpfs.MountAsync(_output.Path, "256k");
        try
        {
            FeatureEvent[] events = PartTestEvents.Create(3_000);
            using (IHost down = Build(o => o.MaxBatchBytes = 16 * 1024))
            {
                await down.StartAsync(TestContext.Current.CancellationToken);
                IFlagEventSink sink = down.Services.GetRequiredService<IFlagEventSink>();
                Assert.All(events, e => Assert.True(sink.Add(e)));
                _ = await Assert.ThrowsAsync<InvalidOperationException>(() => sink.FlushAsync(TestContext.Current.CancellationToken));
                await down.StopAsync(TestContext.Current.CancellationToken);
            }

            int writtenBefore = _output.FileNames().Length;
            Assert.True(writtenBefore >= 5, $"{writtenBefore} parts written before the disk was full");

            await Tmpfs.ResizeAsync(_output.Path, "64m");
            using (IHost up = Build(o => { o.MaxBatchBytes = 40 * 1024; o.Format = "CSV"; o.Filename = "other-{{ .UUID}}.{{ .Format}}"; }))
            {
                await up.StartAsync(TestContext.Current.CancellationToken);
                await up.Services.GetRequiredService<IFlagEventSink>().FlushAsync(TestContext.Current.CancellationToken);
                await up.StopAsync(TestContext.Current.CancellationToken);
            }

            List<string> written = WrittenEvents.UserKeys(_output.Path);
            Assert.Equal(events.Length, written.Count);
            Assert.Equal(events.Select(e => e.UserKey).Order(StringComparer.Ordinal), written.Order(StringComparer.Ordinal));
        }
        finally
        {
            await Tmpfs.UnmountAsync(_output.Path);
        }
    }

    private IHost Build(Action<FileExporterOptions> configure)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        _ = builder.Services.AddFlagExport().UseDurableBuffer(Path.Combine(_folder.Path, "buffer")).AddFileExporter(
            "files",
            o =>
            {
                o.OutputDir = _output.Path;
                o.Filename = "batch-{{ .Timestamp}}.{{ .Format}}";
                configure(o);
            },
            p =>
            {
                p.ShutdownTimeout = TimeSpan.FromMilliseconds(200);
                p.FlushInterval = TimeSpan.FromHours(1);
            });
        return builder.Build();
    }
}

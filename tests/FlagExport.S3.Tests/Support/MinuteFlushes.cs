using Microsoft.Extensions.Time.Testing;

namespace FlagExport.S3.Tests.Support;

/// <summary>Exports batches as a pipeline flushing once a minute would, on a fake clock.</summary>
internal static class MinuteFlushes
{
    /// <summary>Exports each batch in turn, moving <paramref name="clock"/> a minute on after each (distinct file names).</summary>
    public static async Task ExportEachAsync(this IExporter exporter, FakeTimeProvider clock, IEnumerable<IReadOnlyList<ExportableEvent>> batches)
    {
        foreach (IReadOnlyList<ExportableEvent> batch in batches)
        {
            await exporter.ExportAsync(new ExportBatch(batch), TestContext.Current.CancellationToken);
            clock.Advance(TimeSpan.FromMinutes(1));
        }
    }

    /// <summary>Downloads the objects under <paramref name="prefix"/> into <paramref name="subfolder"/> of a new temporary folder, which it returns.</summary>
    public static async Task<TemporaryFolder> DownloadAsync(Amazon.S3.IAmazonS3 s3, string bucket, string prefix, string subfolder = "")
    {
        var folder = new TemporaryFolder();
        try
        {
            Assert.NotEmpty(await S3Download.PrefixAsync(s3, bucket, prefix, Path.Combine(folder.Path, subfolder)));
            return folder;
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }
}

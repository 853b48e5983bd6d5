using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace FlagExport.Testing;

/// <summary>Reads back what the tests wrote to a container, with a client of the test's own.</summary>
public static class BlobRead
{
    /// <summary>The names of the container's blobs, in ordinal order.</summary>
    public static async Task<string[]> NamesAsync(BlobContainerClient container)
    {
        var names = new List<string>();
        await foreach (BlobItem item in container.GetBlobsAsync(cancellationToken: TestContext.Current.CancellationToken))
        {
            names.Add(item.Name);
        }

        return [.. names.Order(StringComparer.Ordinal)];
    }

    /// <summary>Every blob of the container, by name.</summary>
    public static async Task<SortedDictionary<string, byte[]>> ReadAllAsync(BlobContainerClient container)
    {
        var blobs = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string name in await NamesAsync(container))
        {
            blobs[name] = await BodyAsync(container, name);
        }

        return blobs;
    }

    /// <summary>The bytes of the blob <paramref name="name"/>.</summary>
    public static async Task<byte[]> BodyAsync(BlobContainerClient container, string name) =>
        (await container.GetBlobClient(name).DownloadContentAsync(TestContext.Current.CancellationToken)).Value.Content.ToArray();
}

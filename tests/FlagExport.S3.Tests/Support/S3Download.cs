using Amazon.S3;
using Amazon.S3.Model;

namespace FlagExport.S3.Tests.Support;

/// <summary>
/// Copies every object under a key prefix into a local folder, each key (less the prefix) as a relative path: what
/// <c>aws s3 sync s3://bucket/prefix folder</c> does, so that a query engine without S3 access reads the same layout.
/// </summary>
internal static class S3Download
{
    /// <summary>Downloads the objects under <paramref name="prefix"/> into <paramref name="folder"/>; returns the relative paths written.</summary>
    public static async Task<string[]> PrefixAsync(IAmazonS3 s3, string bucket, string prefix, string folder)
    {
        var written = new List<string>();
        foreach (S3Object item in await S3Read.ListAsync(s3, bucket, prefix))
        {
            string relative = item.Key[prefix.Length..];
            string path = Path.Combine(folder, relative);
            _ = Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using GetObjectResponse response = await s3.GetObjectAsync(bucket, item.Key, TestContext.Current.CancellationToken);
            await using (FileStream file = File.Create(path))
            {
                // The stored bytes as they are: a .gz object stays gzip, as the SDK does not decode Content-Encoding.
                await response.ResponseStream.CopyToAsync(file, TestContext.Current.CancellationToken);
            }

            written.Add(relative);
        }

        return [.. written];
    }
}

using Azure.Core;
using Azure.Core.Pipeline;

namespace FlagExport.AzureBlob.Tests.Support;

/// <summary>
/// A pipeline policy that lets the first <paramref name="count"/> blob uploads (PUT, not a container's) reach the server and be answered,
/// then throws as if the connection had dropped before the answer arrived: the write happened, the client never hears of it.
/// </summary>
/// <remarks>With <paramref name="query"/>, only uploads whose query string it accepts (<c>comp=blocklist</c>: the commit).</remarks>
internal sealed class LoseAnswers(int count, Func<string, bool>? query = null) : HttpPipelinePolicy
{
    private int _remaining = count;

    public int Lost { get; private set; }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The exporter uses the asynchronous API.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        string requestQuery = message.Request.Uri.Query;
        bool blobUpload = message.Request.Method == RequestMethod.Put && !requestQuery.Contains("restype=container", StringComparison.Ordinal)
            && (query is null || query(requestQuery));
        if (blobUpload && message.Response.Status is >= 200 and < 300 && Interlocked.Decrement(ref _remaining) >= 0)
        {
            Lost++;
            throw new IOException("injected: the connection dropped before the answer");
        }
    }
}

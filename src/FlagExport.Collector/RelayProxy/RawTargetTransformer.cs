using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FlagExport.Collector.RelayProxy;

/// <summary>
/// YARP's default transform, except that the path and query go to the relay proxy as the client sent them: the request
/// target's bytes, not the decoded path encoded again (which turns <c>%2F</c> in a flag key into <c>%252F</c>).
/// </summary>
/// <remarks>
/// The target is what Kestrel received and validated (<see cref="IHttpRequestFeature.RawTarget"/>); the URI is built
/// without canonicalization, so that no escape is decoded or added on the way. A target that is not a path (or that
/// cannot form a URI) keeps YARP's address.
/// </remarks>
internal sealed class RawTargetTransformer : HttpTransformer
{
    /// <summary>The one instance: the transform keeps no state.</summary>
    public static readonly RawTargetTransformer Instance = new();

    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private RawTargetTransformer()
    {
    }

    /// <inheritdoc/>
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        string? target = httpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (target is { Length: > 0 } && target[0] == '/' && Uri.TryCreate(destinationPrefix + target, in Verbatim, out Uri? exact))
        {
            proxyRequest.RequestUri = exact;
        }
    }
}

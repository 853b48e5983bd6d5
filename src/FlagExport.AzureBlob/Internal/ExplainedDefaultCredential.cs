using Azure.Core;
using Azure.Identity;

namespace FlagExport.AzureBlob;

/// <summary>
/// <c>DefaultAzureCredential</c>, whose failure says in its first line what was tried: the exporter's own sources (none
/// set) and the chain's credentials. The chain's own message puts a troubleshooting link on its first line and one
/// credential per following line, and the exporter's errors keep only the first line.
/// </summary>
internal sealed class ExplainedDefaultCredential(TokenCredential chain) : TokenCredential
{
    public ExplainedDefaultCredential()
        : this(new DefaultAzureCredential())
    {
    }

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        try
        {
            return chain.GetToken(requestContext, cancellationToken);
        }
        catch (Exception exception) when (Explain(exception) is { } explained)
        {
            throw explained;
        }
    }

    public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        try
        {
            return await chain.GetTokenAsync(requestContext, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (Explain(exception) is { } explained)
        {
            throw explained;
        }
    }

    /// <summary>The same kind of exception with a one-line account of what was tried; null for other exceptions.</summary>
    internal static Exception? Explain(Exception exception)
    {
        string? tried = exception switch
        {
            CredentialUnavailableException or AuthenticationFailedException => Tried(exception.Message),
            _ => null,
        };
        if (tried is null)
        {
            return null;
        }

        string message =
            $"neither an account key (AccountKey, or {BlobClientFactory.AccountKeyVariable} with AccountName) nor a connection string " +
            $"({BlobClientFactory.ConnectionStringVariable}, without AccountName and ServiceUrl) applies, and DefaultAzureCredential got no token " +
            $"({tried}); set one of them, or give this process an Entra ID identity";
        return exception is CredentialUnavailableException
            ? new CredentialUnavailableException(message, exception)
            : new AuthenticationFailedException(message, exception);
    }

    /// <summary>
    /// Each credential the message names with its outcome up to the first <c>.</c> or <c>:</c> (<c>EnvironmentCredential
    /// authentication unavailable</c>): the chain lists one per line after <c>- </c>, a chain of one gives its own message.
    /// Else the message's first line.
    /// </summary>
    private static string Tried(string message)
    {
        string[] lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string[] items = [.. lines.Where(l => l.StartsWith("- ", StringComparison.Ordinal)).Select(l => l[2..])];
        var outcomes = new List<string>();
        foreach (string item in items.Length > 0 ? items : lines.Take(1))
        {
            if (item.Split(' ', 2)[0].TrimEnd(':', '.').EndsWith("Credential", StringComparison.Ordinal))
            {
                int end = item.AsSpan().IndexOfAny('.', ':');
                outcomes.Add((end < 0 ? item : item[..end]).Trim());
            }
        }

        return outcomes.Count > 0 ? string.Join("; ", outcomes) : lines.FirstOrDefault() ?? "";
    }
}

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
            $"none of AccountKey, {BlobClientFactory.AccountKeyVariable} and {BlobClientFactory.ConnectionStringVariable} is set, " +
            $"and DefaultAzureCredential got no token (tried {tried}); set one of them, or give this process an Entra ID identity";
        return exception is CredentialUnavailableException
            ? new CredentialUnavailableException(message, exception)
            : new AuthenticationFailedException(message, exception);
    }

    /// <summary>The credentials the chain's message lists (lines <c>- NameCredential …</c>), else its first line.</summary>
    private static string Tried(string message)
    {
        var names = new List<string>();
        foreach (string line in message.Split('\n'))
        {
            string item = line.Trim();
            if (item.StartsWith("- ", StringComparison.Ordinal))
            {
                string name = item[2..].Split(' ', 2)[0].TrimEnd(':', '.');
                if (name.EndsWith("Credential", StringComparison.Ordinal))
                {
                    names.Add(name);
                }
            }
        }

        if (names.Count > 0)
        {
            return string.Join(", ", names);
        }

        int newline = message.AsSpan().IndexOfAny('\r', '\n');
        return (newline < 0 ? message : message[..newline]).Trim();
    }
}

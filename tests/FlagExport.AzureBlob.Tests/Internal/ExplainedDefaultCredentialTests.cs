using Azure.Core;
using Azure.Identity;

namespace FlagExport.AzureBlob.Tests.Internal;

/// <summary>A DefaultAzureCredential failure becomes one line naming the exporter's sources and each credential tried.</summary>
public sealed class ExplainedDefaultCredentialTests
{
    private static readonly TokenRequestContext Request = new(["https://storage.azure.com/.default"]);

    [Fact]
    public async Task GetTokenAsync_ChainOfSeveral_ListsEachCredentialWithItsOutcome_OnOneLine()
    {
        // The shape of DefaultAzureCredential's message: a first line with a link, then one credential per line.
        var chain = new FailingCredential(new CredentialUnavailableException(
            "DefaultAzureCredential failed to retrieve a token from the included credentials. See the troubleshooting guide for more information. https://aka.ms/azsdk/net/identity/defaultazurecredential/troubleshoot\n"
            + "- EnvironmentCredential authentication unavailable. Environment variables are not fully configured. See the troubleshooting guide for more information.\n"
            + "- ManagedIdentityCredential authentication unavailable. No response received from the managed identity endpoint.\n"
            + "- AzureCliCredential: Azure CLI not installed"));

        var error = await Assert.ThrowsAsync<CredentialUnavailableException>(
            () => new ExplainedDefaultCredential(chain).GetTokenAsync(Request, TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(
            "neither an account key (AccountKey, or AZURE_STORAGE_KEY with AccountName) nor a connection string "
            + "(AZURE_STORAGE_CONNECTION_STRING, without AccountName and ServiceUrl) applies, and DefaultAzureCredential got no token "
            + "(EnvironmentCredential authentication unavailable; ManagedIdentityCredential authentication unavailable; AzureCliCredential); "
            + "set one of them, or give this process an Entra ID identity",
            error.Message);
        Assert.IsType<CredentialUnavailableException>(error.InnerException); // the chain's full account, for the Debug log
    }

    [Fact]
    public void GetToken_AFailedCredential_StaysAnAuthenticationFailure()
    {
        var chain = new FailingCredential(new AuthenticationFailedException("ManagedIdentityCredential authentication failed: the endpoint answered 500.\nDetails follow"));

        var error = Assert.Throws<AuthenticationFailedException>(() => new ExplainedDefaultCredential(chain).GetToken(Request, TestContext.Current.CancellationToken));

        Assert.Contains("DefaultAzureCredential got no token (ManagedIdentityCredential authentication failed);", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTokenAsync_OtherExceptions_PassUnchanged()
    {
        var original = new InvalidOperationException("something else");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => new ExplainedDefaultCredential(new FailingCredential(original)).GetTokenAsync(Request, TestContext.Current.CancellationToken).AsTask());

        Assert.Same(original, error);
    }

    private sealed class FailingCredential(Exception exception) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw exception;

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw exception;
    }
}

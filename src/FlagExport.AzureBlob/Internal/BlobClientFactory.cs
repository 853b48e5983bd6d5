using Azure.Storage;
using Azure.Storage.Blobs;

namespace FlagExport.AzureBlob;

/// <summary>Builds the container client from the options and the Azure SDK's standard credential sources.</summary>
internal static class BlobClientFactory
{
    /// <summary>The connection string variable of the Azure CLI and SDK samples.</summary>
    public const string ConnectionStringVariable = "AZURE_STORAGE_CONNECTION_STRING";

    /// <summary>The account key variable of the Azure CLI.</summary>
    public const string AccountKeyVariable = "AZURE_STORAGE_KEY";

    /// <summary>Checks the connection options without building a client.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public static void Validate(AzureBlobExporterOptions options, Func<string, string?> environment)
    {
        if (options.ServiceUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            throw AzureBlobSettings.InvalidOption($"ServiceUrl '{url}' must be an absolute http:// or https:// URL.", nameof(options.ServiceUrl));
        }

        string? account = Trimmed(options.AccountName);
        if (account is not null && !account.All(char.IsAsciiLetterOrDigit))
        {
            throw AzureBlobSettings.InvalidOption($"AccountName '{options.AccountName}' is not a storage account name (letters and digits).", nameof(options.AccountName));
        }

        if (Trimmed(options.AccountKey) is not null && account is null)
        {
            throw AzureBlobSettings.InvalidOption("AccountKey is set but AccountName is not: a shared key belongs to an account; set AccountName.", nameof(options.AccountName));
        }

        if (account is null && options.ServiceUrl is null && Trimmed(environment(ConnectionStringVariable)) is null)
        {
            throw AzureBlobSettings.InvalidOption(
                $"AccountName is required: set it (or ServiceUrl for an emulator or sovereign cloud), or put a connection string in {ConnectionStringVariable}.",
                nameof(options.AccountName));
        }
    }

    /// <summary>The client for the options' container, on the credential source <see cref="BlobConnection.Choose"/> picks.</summary>
    public static BlobContainerClient Create(AzureBlobExporterOptions options, string container, Func<string, string?> environment)
    {
        Validate(options, environment);
        BlobConnection connection = BlobConnection.Choose(options, container, environment);
        switch (connection.Source)
        {
            case BlobCredentialSource.ConnectionString:
                return new BlobContainerClient(connection.Secret, container);

            case BlobCredentialSource.AccountKeyOption or BlobCredentialSource.AccountKeyVariable:
                try
                {
                    return new BlobContainerClient(connection.ContainerUri, new StorageSharedKeyCredential(connection.AccountName, connection.Secret));
                }
                catch (FormatException exception)
                {
                    string source = connection.Source == BlobCredentialSource.AccountKeyOption ? nameof(options.AccountKey) : "The key in " + AccountKeyVariable;
                    throw AzureBlobSettings.InvalidOption(
                        $"{source} of account '{connection.AccountName}' is not a base64 storage account key.", nameof(options.AccountKey), exception);
                }

            default:
                return new BlobContainerClient(connection.ContainerUri, new ExplainedDefaultCredential());
        }
    }

    internal static string? Trimmed(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

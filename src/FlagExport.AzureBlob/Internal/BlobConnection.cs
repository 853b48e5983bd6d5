namespace FlagExport.AzureBlob;

/// <summary>
/// The credential source and endpoint the exporter's own client uses, chosen from the options and the environment. Kept
/// apart from the client so that the choice can be checked without a request (a token credential cannot be inspected).
/// </summary>
/// <remarks>Holds a key or a connection string: never logged, and <see cref="ToString"/> leaves it out.</remarks>
internal sealed class BlobConnection
{
    private BlobConnection(BlobCredentialSource source, string? accountName, Uri? containerUri, string? secret)
    {
        Source = source;
        AccountName = accountName;
        ContainerUri = containerUri;
        Secret = secret;
    }

    public BlobCredentialSource Source { get; }

    /// <summary>The account of a shared key; null for the other sources.</summary>
    public string? AccountName { get; }

    /// <summary>The container's URL; null for a connection string, whose endpoint is inside it.</summary>
    public Uri? ContainerUri { get; }

    /// <summary>The account key or the connection string; null for <see cref="BlobCredentialSource.DefaultAzureCredential"/>.</summary>
    public string? Secret { get; }

    /// <summary>
    /// The first source that applies: <see cref="AzureBlobExporterOptions.AccountKey"/> (with <c>AccountName</c>); the
    /// connection string in <c>AZURE_STORAGE_CONNECTION_STRING</c> when neither <c>AccountName</c> nor <c>ServiceUrl</c> is
    /// set (a connection string names its own account and endpoint, which must not silently win over the configured ones);
    /// <c>AZURE_STORAGE_KEY</c> (with <c>AccountName</c>); else <c>DefaultAzureCredential</c>.
    /// </summary>
    /// <remarks>The options must have passed <see cref="BlobClientFactory.Validate"/>.</remarks>
    public static BlobConnection Choose(AzureBlobExporterOptions options, string container, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        string? account = BlobClientFactory.Trimmed(options.AccountName);
        if (account is null && options.ServiceUrl is null && BlobClientFactory.Trimmed(environment(BlobClientFactory.ConnectionStringVariable)) is { } connectionString)
        {
            return new(BlobCredentialSource.ConnectionString, accountName: null, containerUri: null, connectionString);
        }

        Uri service = options.ServiceUrl ?? new Uri($"https://{account}.blob.core.windows.net");
        Uri containerUri = new(service.AbsoluteUri.TrimEnd('/') + "/" + container);
        if (account is not null && BlobClientFactory.Trimmed(options.AccountKey) is { } optionKey)
        {
            return new(BlobCredentialSource.AccountKeyOption, account, containerUri, optionKey);
        }

        if (account is not null && BlobClientFactory.Trimmed(environment(BlobClientFactory.AccountKeyVariable)) is { } variableKey)
        {
            return new(BlobCredentialSource.AccountKeyVariable, account, containerUri, variableKey);
        }

        return new(BlobCredentialSource.DefaultAzureCredential, accountName: null, containerUri, secret: null);
    }

    /// <summary>The source and the endpoint, without the secret.</summary>
    public override string ToString() => $"{Source} {ContainerUri}";
}

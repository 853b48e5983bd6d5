namespace FlagExport.AzureBlob;

/// <summary>Where the exporter's own client gets its credentials; the order of choice is <see cref="BlobConnection.Choose"/>'s.</summary>
internal enum BlobCredentialSource
{
    /// <summary><see cref="AzureBlobExporterOptions.AccountKey"/> with <see cref="AzureBlobExporterOptions.AccountName"/>.</summary>
    AccountKeyOption,

    /// <summary>The connection string in <c>AZURE_STORAGE_CONNECTION_STRING</c>, which names its own account and endpoint.</summary>
    ConnectionString,

    /// <summary>The key in <c>AZURE_STORAGE_KEY</c> with <see cref="AzureBlobExporterOptions.AccountName"/>.</summary>
    AccountKeyVariable,

    /// <summary>The Azure SDK's <c>DefaultAzureCredential</c> (environment, workload identity, managed identity, developer tools).</summary>
    DefaultAzureCredential,
}

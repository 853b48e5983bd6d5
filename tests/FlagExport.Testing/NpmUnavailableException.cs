namespace FlagExport.Testing;

/// <summary>npm or node could not install or run a package set.</summary>
public sealed class NpmUnavailableException(string message) : Exception(message);

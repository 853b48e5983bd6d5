namespace FlagExport.Collector.Tests.Support;

/// <summary>npm or node could not install or run a package set.</summary>
public sealed class NpmUnavailableException(string message) : Exception(message);

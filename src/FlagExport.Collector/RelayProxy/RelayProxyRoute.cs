namespace FlagExport.Collector.RelayProxy;

/// <summary>One route of the relay proxy.</summary>
/// <param name="Pattern">The route pattern, matched for every method.</param>
/// <param name="IsStream">A long-lived stream (websocket, server-sent events) rather than a request and its answer.</param>
internal sealed record RelayProxyRoute(string Pattern, bool IsStream = false);

namespace FlagExport.Durability;

/// <summary>The durable buffer holds <c>MaxBufferBytes</c>: nothing more is accepted until exporters catch up.</summary>
internal sealed class DurableBufferFullException(string directory, long maxBytes)
    : IOException($"The durable buffer '{directory}' is full (MaxBufferBytes = {maxBytes}); events are accepted again once the exporters catch up.");

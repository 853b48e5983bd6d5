namespace FlagExport.Testing;

/// <summary>What a <see cref="FaultProxy"/> does with the connections it accepts.</summary>
public enum FaultMode
{
    /// <summary>Forwards both ways, untouched.</summary>
    Pass,

    /// <summary>Accepts and at once resets (RST) each connection; nothing reaches the server.</summary>
    RefuseConnections,

    /// <summary>Forwards the first bytes the client sends on each connection, then resets both sides.</summary>
    ResetMidBody,

    /// <summary>Forwards both ways, holding each chunk back for a while first.</summary>
    Delay,

    /// <summary>Accepts, reads and discards everything, never answers.</summary>
    BlackHole,

    /// <summary>Answers each request itself with an S3-style error and <c>Connection: close</c>; the server never sees it.</summary>
    Answer,

    /// <summary>Forwards the request, then resets both sides when the server's (final) answer arrives: stored, answer lost.</summary>
    DropResponse,
}

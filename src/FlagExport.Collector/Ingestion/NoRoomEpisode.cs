using Microsoft.Extensions.Logging;

namespace FlagExport.Collector.Ingestion;

/// <summary>
/// Logs refusals for lack of room (503) once per episode: the first at Warning, the next ones at Debug, and one line with
/// their count when a request is accepted again. Under overload a line per refused request would cost the request
/// threads (and the export worker sharing their cores) more than the refusal itself.
/// </summary>
/// <remarks>
/// An episode is the run of refusals between two accepted requests. With concurrent requests, a refusal that races with
/// the first acceptance after an episode is counted in the next episode or the last one, never lost and never twice.
/// </remarks>
internal sealed class NoRoomEpisode(ILogger logger)
{
    private long _refused;

    /// <summary>Records one request refused for lack of room, with the reason its client was given.</summary>
    public void Refused(string reason)
    {
        long refused = Interlocked.Increment(ref _refused);
        if (refused == 1)
        {
            logger.RefusingForLackOfRoom(reason);
        }
        else
        {
            logger.RefusedForLackOfRoom(refused, reason);
        }
    }

    /// <summary>Records an accepted request: ends the episode, if one is running. Only a read when none is.</summary>
    public void Accepted()
    {
        if (Volatile.Read(ref _refused) == 0)
        {
            return;
        }

        long refused = Interlocked.Exchange(ref _refused, 0);
        if (refused > 0)
        {
            logger.AcceptingAgain(refused);
        }
    }
}

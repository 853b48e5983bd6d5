namespace OtelDotnetClient;

/// <summary>The times of the records emitted so far, in emission order.</summary>
internal sealed class EmittedRecords
{
    private readonly List<long> _times = [];

    public IReadOnlyList<long> Times
    {
        get
        {
            lock (_times)
            {
                return [.. _times];
            }
        }
    }

    public void Add(DateTimeOffset time)
    {
        lock (_times)
        {
            _times.Add((time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * TimeSpan.NanosecondsPerTick);
        }
    }
}

namespace FlagExport;

/// <summary>
/// The deadline of a pipeline's stop: reached when its shutdown timeout elapses on the pipeline's clock, or when the
/// caller of the stop gives up, whichever comes first. Every token of the stop's work is linked to <see cref="Token"/>.
/// </summary>
/// <remarks>Started at most once, by the first stop; disposed after the worker has finished.</remarks>
internal sealed class ShutdownDeadline : IAsyncDisposable
{
    private readonly CancellationTokenSource _reached = new();
    private ITimer? _timer;
    private CancellationTokenRegistration _callerRegistration;

    /// <summary>Cancelled once the deadline is reached.</summary>
    internal CancellationToken Token => _reached.Token;

    /// <summary>Whether the deadline is reached.</summary>
    internal bool IsReached => _reached.IsCancellationRequested;

    /// <summary>
    /// Starts counting <paramref name="timeout"/> on <paramref name="timeProvider"/>, and reaches the deadline at once when
    /// <paramref name="cancellationToken"/> is cancelled first.
    /// </summary>
    internal void Start(TimeProvider timeProvider, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _timer = ExportWorker.WithoutExecutionContext(() =>
            timeProvider.CreateTimer(static s => ((ShutdownDeadline)s!).Reach(), this, timeout, Timeout.InfiniteTimeSpan));

        if (cancellationToken.CanBeCanceled)
        {
            _callerRegistration = cancellationToken.UnsafeRegister(static s => ((ShutdownDeadline)s!).Reach(), this);
        }
    }

    /// <summary>Releases the timer and the caller's registration. Call once.</summary>
    public async ValueTask DisposeAsync()
    {
        await _callerRegistration.DisposeAsync().ConfigureAwait(false);
        _timer?.Dispose();
        _reached.Dispose();
    }

    private void Reach()
    {
        try
        {
            _reached.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposal finished first: nothing is left to cancel.
        }
    }
}

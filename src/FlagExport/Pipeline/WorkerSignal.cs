namespace FlagExport;

/// <summary>
/// An async auto-reset event for exactly one waiter (the pipeline's worker).
/// </summary>
/// <remarks>
/// A <see cref="Set"/> before the wait is remembered, so no wake-up is lost; several sets before one wait count once.
/// The lock is taken only when a producer actually signals (once per threshold crossing, timer tick, flush request or
/// shutdown), never on every added event. Continuations run asynchronously so a producer never runs the worker inline.
/// </remarks>
internal sealed class WorkerSignal
{
    private readonly Lock _gate = new();
    private bool _isSet;
    private TaskCompletionSource? _waiter;

    /// <summary>Wakes the waiter, or lets the next <see cref="WaitAsync"/> return at once.</summary>
    internal void Set()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            waiter = _waiter;
            if (waiter is null)
            {
                _isSet = true;
                return;
            }

            _waiter = null;
        }

        waiter.TrySetResult();
    }

    /// <summary>
    /// Whether the waiter is parked in <see cref="WaitAsync"/> with no set pending: it stays there until the next
    /// <see cref="Set"/>, which clears this at once. For tests.
    /// </summary>
    internal bool HasWaiter
    {
        get
        {
            lock (_gate)
            {
                return _waiter is not null;
            }
        }
    }

    /// <summary>Completes when the signal is set, and resets it.</summary>
    internal Task WaitAsync()
    {
        lock (_gate)
        {
            if (_isSet)
            {
                _isSet = false;
                return Task.CompletedTask;
            }

            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiter.Task;
        }
    }
}

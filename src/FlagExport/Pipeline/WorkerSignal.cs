namespace FlagExport;

/// <summary>
/// An async auto-reset event for exactly one waiter (the pipeline's worker), carrying why it was woken
/// (<see cref="WakeReasons"/>).
/// </summary>
/// <remarks>
/// A wake-up before the wait is remembered, so no wake-up is lost; several sets before one wait count once,
/// and their reasons add up until the worker takes them (<see cref="TakeReasons"/>).
/// The lock is taken only when a producer actually signals (once per threshold crossing, timer tick, flush request or
/// shutdown), never on every added event. Continuations run asynchronously so a producer never runs the worker inline.
/// </remarks>
internal sealed class WorkerSignal
{
    private readonly Lock _gate = new();
    private bool _isSet;
    private TaskCompletionSource? _waiter;
    private int _reasons;

    /// <summary>Records <paramref name="reason"/> (one of <see cref="WakeReasons"/>) and wakes the waiter.</summary>
    internal void Wake(int reason)
    {
        _ = Interlocked.Or(ref _reasons, reason);
        Set();
    }

    /// <summary>The reasons recorded since the last call, cleared. Called by the waiter once woken.</summary>
    internal int TakeReasons() => Interlocked.Exchange(ref _reasons, 0);

    /// <summary>Forgets <paramref name="reason"/> if it is pending (a wake-up that no longer applies).</summary>
    internal void Forget(int reason) => _ = Interlocked.And(ref _reasons, ~reason);

    /// <summary>Wakes the waiter, or lets the next <see cref="WaitAsync"/> return at once.</summary>
    private void Set()
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
    /// <see cref="Wake"/>, which clears this at once. For tests.
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

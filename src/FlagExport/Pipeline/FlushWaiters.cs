namespace FlagExport;

/// <summary>
/// The callers of a pipeline's flush waiting until the events added before their call are written: completed, or failed
/// with the attempt that let them down, by the worker.
/// </summary>
/// <remarks>
/// Requests are added and completed under one lock; <see cref="Target"/>, the largest position a request waits for, is
/// read by the worker without it. A request made while an attempt runs is failed only by a later attempt.
/// </remarks>
internal sealed class FlushWaiters
{
    private readonly string _name;
    private readonly IBatchSource _source;
    private readonly Func<long> _attempts;
    private readonly Lock _gate = new();
    private readonly List<FlushRequest> _requests = [];
    private long _target;
    private bool _workerDone;

    /// <summary>Creates the waiters of the pipeline <paramref name="name"/>.</summary>
    /// <param name="name">The exporter's name, for the messages.</param>
    /// <param name="source">Tells which positions are written.</param>
    /// <param name="attempts">Reads how many exports have started.</param>
    internal FlushWaiters(string name, IBatchSource source, Func<long> attempts)
    {
        _name = name;
        _source = source;
        _attempts = attempts;
    }

    /// <summary>The largest position a waiting request wants written, or 0.</summary>
    internal long Target => Volatile.Read(ref _target);

    /// <summary>
    /// A task that completes once positions below <paramref name="target"/> are written; <paramref name="waiting"/> is true
    /// when the caller must wake the worker for it (it is not already done or refused).
    /// </summary>
    /// <remarks>Only an export started after the request is added can fail it.</remarks>
    internal Task Add(long target, out bool waiting)
    {
        waiting = false;
        FlushRequest request;
        lock (_gate)
        {
            long retired = _source.Retired;
            if (retired >= target)
            {
                return Task.CompletedTask;
            }

            if (_workerDone)
            {
                return Task.FromException(new ObjectDisposedException(nameof(DataExporter), $"Exporter '{_name}' has stopped; {target - retired} events were not written."));
            }

            request = new FlushRequest(target, _attempts());
            _requests.Add(request);
            if (target > _target)
            {
                Volatile.Write(ref _target, target);
            }
        }

        waiting = true;
        return request.Completion.Task;
    }

    /// <summary>
    /// Completes the requests satisfied by <paramref name="retired"/>. When <paramref name="failure"/> is set, also
    /// fails the requests made before <paramref name="failedAttempt"/> started; a request made during that attempt
    /// waits for the next one, which its own wake-up starts.
    /// </summary>
    internal void Complete(long retired, Exception? failure, long failedAttempt)
    {
        List<FlushRequest>? done = null;
        lock (_gate)
        {
            long remainingTarget = 0;
            for (int i = _requests.Count - 1; i >= 0; i--)
            {
                FlushRequest request = _requests[i];
                if (request.Target <= retired || (failure is not null && request.AttemptsBefore < failedAttempt))
                {
                    (done ??= []).Add(request);
                    _requests.RemoveAt(i);
                }
                else
                {
                    remainingTarget = Math.Max(remainingTarget, request.Target);
                }
            }

            Volatile.Write(ref _target, remainingTarget);
        }

        if (done is null)
        {
            return;
        }

        foreach (FlushRequest request in done)
        {
            if (request.Target <= retired)
            {
                _ = request.Completion.TrySetResult();
            }
            else
            {
                _ = request.Completion.TrySetException(failure!);
            }
        }
    }

    /// <summary>When the worker ends: completes what was written, fails the rest, and refuses later requests.</summary>
    internal void Finish()
    {
        long retired = _source.Retired;
        List<FlushRequest> pending;
        lock (_gate)
        {
            _workerDone = true;
            pending = [.. _requests];
            _requests.Clear();
        }

        foreach (FlushRequest request in pending)
        {
            if (request.Target <= retired)
            {
                _ = request.Completion.TrySetResult();
            }
            else
            {
                _ = request.Completion.TrySetException(new ObjectDisposedException(nameof(DataExporter),
                    $"Exporter '{_name}' stopped; {request.Target - retired} events requested by the flush were not written."));
            }
        }
    }

    /// <summary>A caller waiting until <see cref="Target"/> positions are written.</summary>
    /// <param name="target">The position to reach.</param>
    /// <param name="attemptsBefore">How many exports had started when the request was made: only a later one can fail it.</param>
    private sealed class FlushRequest(long target, long attemptsBefore)
    {
        internal long Target { get; } = target;

        internal long AttemptsBefore { get; } = attemptsBefore;

        internal TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

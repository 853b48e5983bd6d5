namespace FlagExport;

/// <summary>
/// When to retry a failed export: exponential backoff from 1 second, doubling up to 60 seconds, with jitter.
/// </summary>
/// <remarks>
/// A pure state machine with no timers of its own: the pipeline calls <see cref="MarkFailure"/> or
/// <see cref="MarkSuccess"/> after each export and arms its retry timer with the delay returned.
/// Jitter subtracts up to <see cref="JitterFraction"/> of the nominal delay, so a delay is always within
/// [0.8 × nominal, nominal] and never exceeds <see cref="MaxDelay"/>; pipelines that failed together spread out.
/// Not thread-safe: only the pipeline's worker uses it.
/// </remarks>
internal sealed class ExportRetryPolicy
{
    /// <summary>The delay after the first failure. The default value is 1 second.</summary>
    internal static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(1);

    /// <summary>The cap on the nominal delay. The default value is 60 seconds.</summary>
    internal static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(60);

    /// <summary>The largest share of the nominal delay removed by jitter. The default value is 0.2.</summary>
    internal const double JitterFraction = 0.2;

    private readonly TimeProvider _timeProvider;
    private readonly Func<double> _nextSample;

    /// <summary>Creates a policy.</summary>
    /// <param name="timeProvider">The clock used for <see cref="NextAttemptAt"/>.</param>
    /// <param name="nextSample">Returns a number in [0, 1) for the jitter; <see cref="Random.Shared"/> when null.</param>
    internal ExportRetryPolicy(TimeProvider timeProvider, Func<double>? nextSample = null)
    {
        _timeProvider = timeProvider;
        _nextSample = nextSample ?? Random.Shared.NextDouble;
    }

    /// <summary>How many exports failed in a row since the last success.</summary>
    internal int ConsecutiveFailures { get; private set; }

    /// <summary>When the next retry is due, or <see langword="null"/> when the last export succeeded.</summary>
    internal DateTimeOffset? NextAttemptAt { get; private set; }

    /// <summary>Records a failed export and returns how long to wait before retrying.</summary>
    internal TimeSpan MarkFailure()
    {
        if (ConsecutiveFailures < int.MaxValue)
        {
            ConsecutiveFailures++;
        }

        TimeSpan delay = WithJitter(NominalDelay(ConsecutiveFailures), _nextSample());
        NextAttemptAt = _timeProvider.GetUtcNow() + delay;
        return delay;
    }

    /// <summary>Records a successful export: the next failure starts again from <see cref="InitialDelay"/>.</summary>
    internal void MarkSuccess()
    {
        ConsecutiveFailures = 0;
        NextAttemptAt = null;
    }

    /// <summary>The delay before jitter after <paramref name="failures"/> failures in a row: 1, 2, 4, ... 60 seconds.</summary>
    internal static TimeSpan NominalDelay(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);

        // 2^6 s already exceeds the cap; stop doubling before the shift can overflow.
        int exponent = Math.Min(failures - 1, 6);
        TimeSpan delay = InitialDelay * (1 << exponent);
        return delay < MaxDelay ? delay : MaxDelay;
    }

    /// <summary>Removes <paramref name="sample"/> × <see cref="JitterFraction"/> of <paramref name="nominal"/>.</summary>
    internal static TimeSpan WithJitter(TimeSpan nominal, double sample)
    {
        double clamped = Math.Clamp(sample, 0.0, 1.0);
        return nominal * (1.0 - (JitterFraction * clamped));
    }
}

using Microsoft.Extensions.Time.Testing;

namespace FlagExport.Tests.Pipeline;

public sealed class ExportRetryPolicyTests
{
    [Fact]
    public void NominalDelay_DoublesFromOneSecondAndCapsAtSixtySeconds()
    {
        int[] seconds = [.. Enumerable.Range(1, 9).Select(f => (int)ExportRetryPolicy.NominalDelay(f).TotalSeconds)];

        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60, 60], seconds);
        Assert.Equal(TimeSpan.FromSeconds(60), ExportRetryPolicy.NominalDelay(int.MaxValue));
    }

    [Theory]
    [InlineData(0.0, 10.0)]
    [InlineData(0.5, 9.0)]
    [InlineData(0.999999, 8.0)]
    public void WithJitter_StaysWithinEightyToOneHundredPercentOfNominal(double sample, double expectedSeconds)
    {
        TimeSpan delay = ExportRetryPolicy.WithJitter(TimeSpan.FromSeconds(10), sample);

        Assert.Equal(expectedSeconds, delay.TotalSeconds, precision: 3);
        Assert.InRange(delay, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void MarkFailure_SchedulesTheNextAttemptOnTheClockWithJitterBounds()
    {
        var time = new FakeTimeProvider();
        var random = new Random(42);
        var policy = new ExportRetryPolicy(time, random.NextDouble);
        double[] nominal = [1, 2, 4, 8, 16, 32, 60, 60];

        foreach (double expected in nominal)
        {
            DateTimeOffset now = time.GetUtcNow();
            TimeSpan delay = policy.MarkFailure();

            Assert.InRange(delay.TotalSeconds, expected * 0.8, expected);
            Assert.Equal(now + delay, policy.NextAttemptAt);
            time.Advance(delay);
        }

        Assert.Equal(nominal.Length, policy.ConsecutiveFailures);
    }

    [Fact]
    public void MarkSuccess_RestartsTheScheduleFromOneSecond()
    {
        var policy = new ExportRetryPolicy(new FakeTimeProvider(), () => 0.0);
        _ = policy.MarkFailure();
        _ = policy.MarkFailure();

        policy.MarkSuccess();

        Assert.Null(policy.NextAttemptAt);
        Assert.Equal(0, policy.ConsecutiveFailures);
        Assert.Equal(TimeSpan.FromSeconds(1), policy.MarkFailure());
    }
}

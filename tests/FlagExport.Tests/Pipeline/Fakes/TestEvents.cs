namespace FlagExport.Tests.Pipeline.Fakes;

/// <summary>Events whose <see cref="ExportableEvent.CreationDate"/> is a unique id, and waiting helpers.</summary>
internal static class TestEvents
{
    public static FeatureEvent Feature(long id) => new() { CreationDate = id, Key = "flag", UserKey = "user" };

    public static TrackingEvent Tracking(long id) => new() { CreationDate = id, Key = "tracked" };

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after a generous cap (never asserts on time).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var cap = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (cap.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Advances <paramref name="time"/> step by step until <paramref name="task"/> completes (capped).</summary>
    public static async Task AdvanceUntilCompletedAsync(Microsoft.Extensions.Time.Testing.FakeTimeProvider time, Task task, TimeSpan step)
    {
        for (int i = 0; i < 10_000 && !task.IsCompleted; i++)
        {
            time.Advance(step);
            _ = await Task.WhenAny(task, Task.Delay(5, TestContext.Current.CancellationToken));
        }

        Assert.True(task.IsCompleted, "The task did not complete while the fake clock advanced.");
        await task;
    }
}

using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests.Infrastructure;

public static class ClockDriver
{
    /// <summary>
    /// Awaits <paramref name="work"/> while moving the fake clock forward, so retry backoff and
    /// timeouts that wait on it elapse in milliseconds of real time.
    /// </summary>
    public static async Task<T> WhileAdvancingAsync<T>(this FakeTimeProvider clock, Task<T> work, TimeSpan? step = null, Func<Task>? eachStep = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(work);
        while (!work.IsCompleted)
        {
            clock.Advance(step ?? TimeSpan.FromMilliseconds(50));
            if (eachStep is not null)
            {
                await eachStep();
            }
            await Task.WhenAny(work, Task.Delay(TimeSpan.FromMilliseconds(2), TimeProvider.System, TestContext.Current.CancellationToken));
        }
        return await work;
    }
}

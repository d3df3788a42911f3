using System.Diagnostics;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>Waits on a condition the test cannot be told about (a reconnect, a log line), checking it often, up to a deadline.</summary>
public static class Eventually
{
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < within)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, TestContext.Current.CancellationToken);
        }
        return await condition();
    }

    public static Task<bool> TrueAsync(Func<bool> condition, TimeSpan within) => TrueAsync(() => Task.FromResult(condition()), within);
}

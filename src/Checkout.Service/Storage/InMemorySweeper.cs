namespace CheckoutService.Storage;

/// <summary>An in-process store whose expired entries need dropping now and then (Redis does this itself).</summary>
internal interface IExpiringStore
{
    void RemoveExpired();
}

/// <summary>Drops expired carts and sessions from memory every half minute, so the embedded mode does not grow without bound.</summary>
internal sealed class InMemorySweeper(IEnumerable<IExpiringStore> stores, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var store in stores)
            {
                store.RemoveExpired();
            }
        }
    }
}

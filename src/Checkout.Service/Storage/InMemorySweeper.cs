namespace CheckoutService.Storage;

/// <summary>An in-process store whose expired entries need dropping now and then (Redis does this itself).</summary>
internal interface IExpiringStore
{
    void RemoveExpired();
}

/// <summary>Drops expired entries of the in-process tables every half minute.</summary>
internal sealed class InMemorySweeper(InMemoryTables tables, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            tables.SweepExpired(force: true);
        }
    }
}

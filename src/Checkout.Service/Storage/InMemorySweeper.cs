namespace CheckoutService.Storage;

/// <summary>An in-process store whose expired entries need dropping now and then (Redis does this itself).</summary>
internal interface IExpiringStore
{
    void RemoveExpired();
}

/// <summary>Drops expired entries of the in-process tables every half minute.</summary>
internal sealed class InMemorySweeper(InMemoryTables tables, TimeProvider time, ILogger<InMemorySweeper> logger) : PeriodicWork(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(30);

    protected override Task RunOnceAsync(CancellationToken cancellationToken)
    {
        tables.SweepExpired(force: true);
        return Task.CompletedTask;
    }
}

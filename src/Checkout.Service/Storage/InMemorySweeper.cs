namespace CheckoutService.Storage;

/// <summary>An in-process store whose expired entries need dropping now and then (Redis does this itself).</summary>
internal interface IExpiringStore
{
    void RemoveExpired();
}

internal static class InMemoryStoreRegistration
{
    /// <summary>Registers an in-process store as its seam and as something the sweeper keeps small.</summary>
    public static IServiceCollection AddInMemoryStore<TSeam, TStore>(this IServiceCollection services)
        where TSeam : class
        where TStore : class, TSeam, IExpiringStore
    {
        services.AddSingleton<TStore>();
        services.AddSingleton<TSeam>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IExpiringStore>(sp => sp.GetRequiredService<TStore>());
        return services;
    }
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

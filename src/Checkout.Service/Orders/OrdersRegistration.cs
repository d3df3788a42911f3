using CheckoutService.Storage;
using Microsoft.Extensions.Options;

namespace CheckoutService.Orders;

internal static class OrdersRegistration
{
    public static IServiceCollection AddOrders(this IServiceCollection services)
    {
        services.AddSingleton(sp => Database.FromUrl(sp.GetRequiredService<IOptions<CheckoutSettings>>().Value.DatabaseUrl));
        services.AddSingleton<IOrderStore, SqlOrderStore>();
        services.AddHostedService<MigrateOnStart>();
        return services;
    }

    /// <summary>The schema is brought up to date before the service takes traffic.</summary>
    private sealed class MigrateOnStart(Database database, TimeProvider time) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Migrations.ApplyAsync(database, time, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

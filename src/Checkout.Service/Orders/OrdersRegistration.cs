using CheckoutService.Edge;

namespace CheckoutService.Orders;

internal static class OrdersRegistration
{
    /// <summary>Orders in the durable store (<c>AddDatabase</c>), and the shopper's look-up.</summary>
    public static IServiceCollection AddOrders(this IServiceCollection services) =>
        services.AddApiJson(OrdersJson.Default).AddSingleton<IOrderStore, SqlOrderStore>();
}

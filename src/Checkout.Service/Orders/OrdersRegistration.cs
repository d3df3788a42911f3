namespace CheckoutService.Orders;

internal static class OrdersRegistration
{
    /// <summary>Orders in the durable store (<c>AddDatabase</c>).</summary>
    public static IServiceCollection AddOrders(this IServiceCollection services) =>
        services.AddSingleton<IOrderStore, SqlOrderStore>();
}

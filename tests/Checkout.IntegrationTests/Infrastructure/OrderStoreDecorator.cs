using CheckoutService.Orders;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>The real order store, with the one call a test wants to break overridable.</summary>
public abstract class OrderStoreDecorator : IOrderStore
{
    public IOrderStore Inner { get; set; } = null!;

    public virtual Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken) => Inner.TryAddAsync(order, cancellationToken);

    public Task<Order?> GetAsync(string orderId, CancellationToken cancellationToken) => Inner.GetAsync(orderId, cancellationToken);

    public Task<Order?> FindByCartAsync(string cartId, CancellationToken cancellationToken) => Inner.FindByCartAsync(cartId, cancellationToken);

    public virtual Task<Order?> FindByPaymentIntentAsync(string paymentIntentId, CancellationToken cancellationToken) =>
        Inner.FindByPaymentIntentAsync(paymentIntentId, cancellationToken);

    public Task<Order?> FindByConfirmationTokenHashAsync(string confirmationTokenHash, CancellationToken cancellationToken) =>
        Inner.FindByConfirmationTokenHashAsync(confirmationTokenHash, cancellationToken);

    public Task<IReadOnlyList<OrderKeys>> PlacedSinceAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken) =>
        Inner.PlacedSinceAsync(since, limit, cancellationToken);

    public Task<StatusChangeResult> ChangeStatusAsync(OrderStatusChange change, CancellationToken cancellationToken) =>
        Inner.ChangeStatusAsync(change, cancellationToken);

    public Task<IReadOnlyList<OrderStatusChange>> HistoryAsync(string orderId, CancellationToken cancellationToken) =>
        Inner.HistoryAsync(orderId, cancellationToken);

    public Task<bool> ReplaceConfirmationTokenAsync(string orderId, string expectedHash, string newHash, CancellationToken cancellationToken) =>
        Inner.ReplaceConfirmationTokenAsync(orderId, expectedHash, newHash, cancellationToken);
}

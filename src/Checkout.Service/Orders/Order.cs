using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Edge;

namespace CheckoutService.Orders;

public static class OrderStatus
{
    public const string Paid = "paid";
    public const string PaymentFailed = "payment_failed";
    public const string Refunded = "refunded";
    public const string PartiallyRefunded = "partially_refunded";
    public const string Voided = "voided";
}

/// <summary>
/// One line of an order's status history: what it became, when and why. <paramref name="ChangeId"/>
/// is unique: a change made for a webhook event carries the event's id, so it applies once.
/// <paramref name="FromStatus"/>, when given, is the status the change was decided from (with
/// <paramref name="FromAmountRefunded"/>, the refunded amount): if the order has moved on since,
/// nothing is written and the caller decides again. <paramref name="AmountRefunded"/>, when given,
/// is the order's new cumulative refunded amount.
/// </summary>
public sealed record OrderStatusChange(
    string ChangeId, string OrderId, string Status, string Reason, DateTimeOffset ChangedAt, string? FromStatus = null,
    Money? AmountRefunded = null, Money? FromAmountRefunded = null);

public enum StatusChangeResult
{
    Applied,
    /// <summary>A change with this id was made before: nothing was done again.</summary>
    AlreadyApplied,
    NoSuchOrder,
    /// <summary>The order's status is no longer <see cref="OrderStatusChange.FromStatus"/>.</summary>
    StatusMoved,
}

public sealed record OrderLine(string Sku, string Name, Money UnitPrice, int Quantity, Money LineTotal);

/// <summary>
/// A placed order. The confirmation token is a bearer credential for the shopper, so only its
/// hash is stored.
/// </summary>
public sealed record Order(
    string OrderId,
    string CartId,
    string SessionId,
    string Email,
    string ConfirmationTokenHash,
    string Status,
    Money Total,
    string Currency,
    IReadOnlyList<OrderLine> Lines,
    ShippingAddress ShippingAddress,
    string PaymentMethodId,
    string PaymentIntentId,
    string ChargeId,
    DateTimeOffset EstimatedDelivery,
    DateTimeOffset CreatedAt)
{
    /// <summary>Everything refunded so far (Stripe's cumulative <c>amount_refunded</c>); it only grows.</summary>
    public Money AmountRefunded { get; init; }
}

/// <summary>The keys a payment provider's event may name an order by.</summary>
public sealed record OrderKeys(string OrderId, string PaymentIntentId, string ConfirmationTokenHash);

/// <summary>Durable orders; a cart has at most one, and the database enforces it.</summary>
public interface IOrderStore
{
    /// <summary>False when the cart already has an order (the unique constraint said no).</summary>
    Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken);

    Task<Order?> GetAsync(string orderId, CancellationToken cancellationToken);

    Task<Order?> FindByCartAsync(string cartId, CancellationToken cancellationToken);

    Task<Order?> FindByPaymentIntentAsync(string paymentIntentId, CancellationToken cancellationToken);

    Task<Order?> FindByConfirmationTokenHashAsync(string confirmationTokenHash, CancellationToken cancellationToken);

    /// <summary>The keys of orders placed at or after <paramref name="since"/>, newest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<OrderKeys>> PlacedSinceAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken);

    /// <summary>Sets the order's status and appends the change to its history, in one transaction, once per change id.</summary>
    Task<StatusChangeResult> ChangeStatusAsync(OrderStatusChange change, CancellationToken cancellationToken);

    /// <summary>The order's statuses, oldest first, its first ("paid", placed) included.</summary>
    Task<IReadOnlyList<OrderStatusChange>> HistoryAsync(string orderId, CancellationToken cancellationToken);

    /// <summary>
    /// Gives the order a new confirmation token if it still has <paramref name="expectedHash"/>: one
    /// caller wins, so a token is handed out once. False when the hash has changed or there is no such order.
    /// </summary>
    Task<bool> ReplaceConfirmationTokenAsync(string orderId, string expectedHash, string newHash, CancellationToken cancellationToken);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(IReadOnlyList<OrderLine>))]
[JsonSerializable(typeof(ShippingAddress))]
[JsonSerializable(typeof(OrderView))]
[JsonSerializable(typeof(OrderCompletedEvent))]
[JsonSerializable(typeof(IReadOnlyList<OrderView>))]
internal sealed partial class OrdersJson : JsonSerializerContext;

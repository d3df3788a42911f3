using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Edge;

namespace CheckoutService.Orders;

public static class OrderStatus
{
    public const string Paid = "paid";
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
    DateTimeOffset CreatedAt);

/// <summary>Durable orders; a cart has at most one, and the database enforces it.</summary>
public interface IOrderStore
{
    /// <summary>False when the cart already has an order (the unique constraint said no).</summary>
    Task<bool> TryAddAsync(Order order, CancellationToken cancellationToken);

    Task<Order?> GetAsync(string orderId, CancellationToken cancellationToken);

    Task<Order?> FindByCartAsync(string cartId, CancellationToken cancellationToken);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(IReadOnlyList<OrderLine>))]
[JsonSerializable(typeof(ShippingAddress))]
internal sealed partial class OrdersJson : JsonSerializerContext;

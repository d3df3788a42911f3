using System.Security.Cryptography;
using CheckoutService.Edge;
using CheckoutService.Observability;
using CheckoutService.RateLimits;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CheckoutService.Orders;

/// <summary>What the shopper sees of an order: no card, no token, the email masked.</summary>
public sealed record OrderView(
    string OrderId,
    string Status,
    IReadOnlyList<OrderLine> Items,
    Money TotalCharged,
    string Currency,
    DateTimeOffset EstimatedDelivery,
    DateTimeOffset CreatedAt,
    ShippingAddress ShippingAddress,
    string Email)
{
    public static OrderView Of(Order order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return new OrderView(order.OrderId, order.Status, order.Lines, order.Total, order.Currency, order.EstimatedDelivery,
            order.CreatedAt, order.ShippingAddress, MaskedEmail.Of(order.Email));
    }
}

/// <summary>The shopper's order look-up: the order id finds it, only its confirmation token opens it.</summary>
public static class OrdersApi
{
    /// <summary>Look-ups per client IP per minute: a confirmation token cannot be guessed at speed.</summary>
    public const int LookupsPerMinute = 30;

    private static readonly byte[] NoHash = new byte[32];

    public static IEndpointRouteBuilder MapOrders(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/checkout/guest/orders/{orderId}", GetOrder).PerClientPerMinute("order-lookup", LookupsPerMinute);
        return app;
    }

    /// <summary>
    /// A wrong token, no token and an unknown id are the same 404, and the hashes are compared in
    /// constant time even when there is no order, so nothing tells them apart.
    /// </summary>
    public static async Task<Results<Ok<OrderView>, ApiError>> GetOrder(
        string orderId, [FromHeader] string? authorization, [FromQuery(Name = "confirmation_token")] string? confirmationToken,
        IOrderStore orders, CancellationToken cancellationToken)
    {
        return await OpenAsync(orders, orderId, confirmationToken ?? BearerToken.From(authorization), cancellationToken) is { } order
            ? TypedResults.Ok(OrderView.Of(order))
            : ApiError.Of(Errors.OrderNotFound.Saying($"Order {Truncate(orderId)} does not exist or the confirmation token does not match"));
    }

    /// <summary>The order the token opens, or null; unknown id and wrong token take the same time.</summary>
    public static async Task<Order?> OpenAsync(IOrderStore orders, string? orderId, string? token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orders);
        var order = orderId is { Length: > 0 and <= 64 } ? await orders.GetAsync(orderId, cancellationToken) : null;
        var stored = order is null ? NoHash : Convert.FromHexString(order.ConfirmationTokenHash);
        var matches = CryptographicOperations.FixedTimeEquals(Sha256.Of(token ?? ""), stored);
        return matches && token is not null ? order : null;
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}

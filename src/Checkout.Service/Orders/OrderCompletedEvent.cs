using System.Text.Json;
using CheckoutService.Edge;
using CheckoutService.Storage;

namespace CheckoutService.Orders;

/// <summary>
/// <c>checkout.order_completed</c>, written in the transaction that places the order: one per order,
/// keyed by cart id. The email travels hashed (docs/decisions/0010); the address and card do not travel.
/// </summary>
public sealed record OrderCompletedEvent(
    string EventId,
    string EventType,
    string OrderId,
    string CartId,
    string SessionId,
    string CheckoutFlow,
    IReadOnlyList<OrderLine> Items,
    Money TotalCharged,
    string Currency,
    string EmailSha256,
    string PaymentIntentId,
    DateTimeOffset OccurredAt)
{
    public const string Topic = "checkout.order_completed";

    public static OutboxEvent Of(Order order)
    {
        ArgumentNullException.ThrowIfNull(order);
        var eventId = OutboxEvent.IdFor(Topic, order.OrderId);
        var body = new OrderCompletedEvent(eventId, Topic, order.OrderId, order.CartId, order.SessionId, "guest_v2", order.Lines, order.Total,
            order.Currency, Sha256.OfEmail(order.Email), order.PaymentIntentId, order.CreatedAt);
        return new OutboxEvent(eventId, Topic, order.CartId, Topic, JsonSerializer.Serialize(body, OrdersJson.Default.OrderCompletedEvent), order.CreatedAt);
    }
}

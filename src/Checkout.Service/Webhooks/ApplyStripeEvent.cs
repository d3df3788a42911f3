using CheckoutService.Edge;
using CheckoutService.Orders;

namespace CheckoutService.Webhooks;

public enum EventOutcome
{
    Applied,
    /// <summary>Nothing to do: a type we do not act on, or a status the order must not go back to.</summary>
    Ignored,
    /// <summary>The order is not there yet (the event overtook the checkout's 201): the event waits.</summary>
    WaitingForOrder,
}

/// <summary>
/// Routes a verified event by type to the order it is about. Each change carries the event's id,
/// so an event applies once however often it is delivered, by however many replicas.
/// </summary>
public sealed class ApplyStripeEvent(IOrderStore orders, TimeProvider time)
{
    private static readonly HashSet<string> Handled = new(StringComparer.Ordinal)
    {
        "payment_intent.succeeded", "checkout.session.completed", "payment_intent.payment_failed", "payment_intent.canceled", "charge.refunded",
    };

    public async Task<EventOutcome> ApplyAsync(StripeEvent stripeEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stripeEvent);
        if (!Handled.Contains(stripeEvent.Type))
        {
            return EventOutcome.Ignored;
        }
        // Decided from the status read, written only if it is still that status: two events racing
        // (a late success and a refund) cannot undo each other; the loser reads again and decides again.
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (await FindOrderAsync(stripeEvent, cancellationToken) is not { } order)
            {
                return EventOutcome.WaitingForOrder;
            }
            if (NextStatus(order.Status, stripeEvent) is not { } status)
            {
                return EventOutcome.Ignored;
            }
            var change = new OrderStatusChange(stripeEvent.EventId, order.OrderId, status, stripeEvent.Type, time.GetUtcNow(), order.Status);
            switch (await orders.ChangeStatusAsync(change, cancellationToken))
            {
                case StatusChangeResult.NoSuchOrder:
                    return EventOutcome.WaitingForOrder;
                case StatusChangeResult.Applied or StatusChangeResult.AlreadyApplied:
                    return EventOutcome.Applied;
            }
        }
        throw new InvalidOperationException($"Order status kept moving while applying {stripeEvent.EventId}");
    }

    private const int MaxAttempts = 8;

    /// <summary>
    /// What the order becomes. Money taken back is never undone by a late success, and a payment
    /// failure never overrides a payment that succeeded (a card retried after a decline).
    /// </summary>
    public static string? NextStatus(string current, StripeEvent stripeEvent)
    {
        ArgumentNullException.ThrowIfNull(stripeEvent);
        var settled = current is OrderStatus.Refunded or OrderStatus.PartiallyRefunded or OrderStatus.Voided;
        return stripeEvent.Type switch
        {
            "payment_intent.succeeded" or "checkout.session.completed" => settled ? null : OrderStatus.Paid,
            "payment_intent.payment_failed" => settled || current == OrderStatus.Paid ? null : OrderStatus.PaymentFailed,
            "payment_intent.canceled" => current == OrderStatus.Refunded ? null : OrderStatus.Voided,
            "charge.refunded" => stripeEvent.AmountRefunded is { } refunded && stripeEvent.Amount is { } amount && refunded < amount
                ? OrderStatus.PartiallyRefunded
                : OrderStatus.Refunded,
            _ => null,
        };
    }

    private async Task<Order?> FindOrderAsync(StripeEvent stripeEvent, CancellationToken cancellationToken)
    {
        if (stripeEvent.ConfirmationToken is { Length: > 0 } token
            && await orders.FindByConfirmationTokenHashAsync(Sha256.Hex(token), cancellationToken) is { } byToken)
        {
            return byToken;
        }
        if (stripeEvent.OrderId is { Length: > 0 } orderId && await orders.GetAsync(orderId, cancellationToken) is { } byId)
        {
            return byId;
        }
        return stripeEvent.PaymentIntentId is { Length: > 0 } intentId
            ? await orders.FindByPaymentIntentAsync(intentId, cancellationToken)
            : null;
    }
}

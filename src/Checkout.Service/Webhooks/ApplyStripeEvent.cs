using CheckoutService.Checkout;
using CheckoutService.Edge;
using CheckoutService.Orders;

namespace CheckoutService.Webhooks;

/// <summary>What of an order the events decide: its status and, from refunds, the amount refunded so far.</summary>
public readonly record struct OrderState(string Status, long RefundedCents);

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
public sealed class ApplyStripeEvent(IOrderStore orders, AwaitingAuthentication awaiting, TimeProvider time)
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
                switch (attempt == 0 ? await SettleAwaitingAsync(stripeEvent, cancellationToken) : null)
                {
                    case AwaitingAuthentication.Standing.Ordered:
                        continue; // placed from the journal just now: the event applies to it
                    case AwaitingAuthentication.Standing.GivenBack:
                        return EventOutcome.Ignored; // no order will ever come of this intent
                    default:
                        return EventOutcome.WaitingForOrder;
                }
            }
            var current = new OrderState(order.Status, order.AmountRefunded.Cents);
            if (Next(current, stripeEvent, order.Total.Cents) is not { } next)
            {
                return EventOutcome.Ignored;
            }
            var change = new OrderStatusChange(stripeEvent.EventId, order.OrderId, next.Status, stripeEvent.Type, time.GetUtcNow(), order.Status,
                new Money(next.RefundedCents), order.AmountRefunded);
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
    /// An intent's outcome for a purchase that waited for 3-D Secure: the shopper may have closed the
    /// tab, so the event settles it (the gateway, asked again, decides). Null when none waited on it.
    /// </summary>
    private async Task<AwaitingAuthentication.Standing?> SettleAwaitingAsync(StripeEvent stripeEvent, CancellationToken cancellationToken) =>
        stripeEvent.Type is "payment_intent.succeeded" or "payment_intent.payment_failed" && stripeEvent.PaymentIntentId is { Length: > 0 } intentId
            ? await awaiting.SettleByIntentAsync(intentId, cancellationToken)
            : null;

    /// <summary>
    /// What the order becomes, or null when the event changes nothing. Status only moves forward
    /// (docs/decisions/0015): a success never undoes a refund or a void, a failure never overrides
    /// a success, a cancel voids only a payment that failed, and the refunded amount, Stripe's
    /// cumulative <c>amount_refunded</c>, only grows. So any order of one intent's events ends
    /// where Stripe's own order of them does.
    /// </summary>
    public static OrderState? Next(OrderState current, StripeEvent stripeEvent, long totalCents)
    {
        ArgumentNullException.ThrowIfNull(stripeEvent);
        var (status, refunded) = current;
        return stripeEvent.Type switch
        {
            "payment_intent.succeeded" or "checkout.session.completed" when status is OrderStatus.Paid or OrderStatus.PaymentFailed =>
                current with { Status = OrderStatus.Paid },
            "payment_intent.payment_failed" when status == OrderStatus.PaymentFailed => current,
            "payment_intent.canceled" when status is OrderStatus.PaymentFailed or OrderStatus.Voided => current with { Status = OrderStatus.Voided },
            "charge.refunded" when status is OrderStatus.Paid or OrderStatus.PaymentFailed or OrderStatus.PartiallyRefunded
                && RefundedBy(stripeEvent, totalCents) is var now && now > refunded =>
                new OrderState(now >= (stripeEvent.Amount ?? totalCents) ? OrderStatus.Refunded : OrderStatus.PartiallyRefunded, now),
            _ => null,
        };
    }

    /// <summary>The cumulative refund the event reports; an event without amounts is taken as a full refund.</summary>
    private static long RefundedBy(StripeEvent stripeEvent, long totalCents) => stripeEvent.AmountRefunded ?? stripeEvent.Amount ?? totalCents;

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

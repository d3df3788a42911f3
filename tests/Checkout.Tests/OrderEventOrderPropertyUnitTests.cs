using CheckoutService.Orders;
using CheckoutService.Webhooks;
using CsCheck;

namespace CheckoutService.Tests;

/// <summary>Stripe delivers an order's events in any order; the order ends where Stripe's own order of them leads.</summary>
public class OrderEventOrderPropertyUnitTests
{
    [Fact]
    public void AnyPermutationOfOneOrdersEvents_EndsInTheStatusOfStripesOrder() =>
        Lifecycle.SelectMany(l => Gen.Shuffle(l.Events.ToArray()).Select(shuffled => (l.Start, l.Events, Shuffled: shuffled)))
            .Sample(l => Fold(l.Start, l.Shuffled) == Fold(l.Start, l.Events), iter: 5_000);

    /// <summary>The order after the events, applied in the given order, from the status it was placed with.</summary>
    private static OrderState Fold(string start, IEnumerable<StripeEvent> events) =>
        events.Aggregate(new OrderState(start, 0), (order, e) => ApplyStripeEvent.Next(order, e, Total) ?? order);

    private const long Total = 4_799;

    private static StripeEvent Of(string type, long? refunded = null) =>
        new("evt_" + Guid.NewGuid().ToString("N"), type, "pi_1", null, null, refunded is null ? null : Total, refunded);

    /// <summary>
    /// What Stripe emits for one intent, in its order: declines, then a success and refunds whose
    /// amount_refunded only grows (the order exists from the success, "paid"); or declines ended by a cancel.
    /// </summary>
    private static readonly Gen<(string Start, IReadOnlyList<StripeEvent> Events)> Lifecycle =
        Gen.Select(Gen.Int[0, 2], Gen.Bool, Gen.Long[1, Total].Array[0, 4], Gen.Bool).Select((declines, canceled, refunds, full) =>
        {
            var events = new List<StripeEvent>();
            events.AddRange(Enumerable.Range(0, declines).Select(_ => Of("payment_intent.payment_failed")));
            if (canceled)
            {
                events.Add(Of("payment_intent.canceled"));
                return (OrderStatus.PaymentFailed, (IReadOnlyList<StripeEvent>)events);
            }
            events.Add(Of("payment_intent.succeeded"));
            var amounts = refunds.Distinct().Order().ToList();
            if (full && (amounts.Count == 0 || amounts[^1] != Total))
            {
                amounts.Add(Total);
            }
            events.AddRange(amounts.Select(a => Of("charge.refunded", a)));
            return (OrderStatus.Paid, events);
        });
}

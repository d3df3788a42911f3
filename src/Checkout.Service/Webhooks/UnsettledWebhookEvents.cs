using CheckoutService.Observability;
using CheckoutService.Orders;

namespace CheckoutService.Webhooks;

/// <summary>
/// Applies recorded events that could not be applied when they came, mostly events that overtook
/// their order's 201. First those that name an order placed since the last pass, so an order's
/// events follow it within a pass however many others wait; then those whose next attempt is due,
/// each backing off on its own, so events that never match cannot crowd out the rest. Any replica
/// may run it beside another: an event's change is made once by its id, settling is conditional,
/// and only one replica counts each attempt.
/// </summary>
internal sealed class UnsettledWebhookEvents(
    WebhookEventStore events, ApplyStripeEvent apply, IOrderStore orders, CheckoutMetrics metrics, TimeProvider time,
    ILogger<UnsettledWebhookEvents> logger) : PeriodicWork(time, logger)
{
    private const int Batch = 100;
    private const int MaxPlacedOrders = 5_000;

    /// <summary>Orders are looked for from this long before the last pass: an order written late, or a replica's clock a little behind, is still seen.</summary>
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(1);

    private DateTimeOffset? _lastLook;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(2);

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var placed = await orders.PlacedSinceAsync((_lastLook ?? now) - Overlap, MaxPlacedOrders, cancellationToken);
        if (placed.Count > 0)
        {
            foreach (var waiting in await events.WaitingForAsync(placed, cancellationToken))
            {
                await ApplyAsync(waiting, cancellationToken);
            }
        }
        _lastLook = now;
        foreach (var due in await events.DueAsync(now, Batch, cancellationToken))
        {
            if (await ApplyAsync(due, cancellationToken) == EventOutcome.WaitingForOrder)
            {
                await events.RecordWaitAsync(due, now, cancellationToken); // waits count from the pass that tried, however long it took
            }
        }
        metrics.WebhookEventsParked.Set(await events.ParkedCountAsync(cancellationToken));
    }

    private async Task<EventOutcome> ApplyAsync(WaitingEvent waiting, CancellationToken cancellationToken)
    {
        if (StripeEvent.Parse(waiting.Payload) is { } stripeEvent)
        {
            return await WebhooksApi.SettleAsync(stripeEvent, events, apply, Time, cancellationToken);
        }
        // Recorded only once it parsed; settled anyway, so that nothing could sit at the head of the queue.
        await events.SettleAsync(waiting.EventId, "ignored", Time.GetUtcNow(), cancellationToken);
        return EventOutcome.Ignored;
    }
}

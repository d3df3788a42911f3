namespace CheckoutService.Webhooks;

/// <summary>
/// Applies recorded events that could not be applied when they came, mostly events that overtook
/// their order's 201. Any replica may run it at the same time as another: an event's change is
/// made once by its id, and settling is conditional.
/// </summary>
internal sealed class UnsettledWebhookEvents(
    WebhookEventStore events, ApplyStripeEvent apply, TimeProvider time, ILogger<UnsettledWebhookEvents> logger) : PeriodicWork(time, logger)
{
    private const int Batch = 100;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(2);

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        foreach (var payload in await events.UnsettledPayloadsAsync(Batch, cancellationToken))
        {
            if (StripeEvent.Parse(payload) is { } stripeEvent)
            {
                await WebhooksApi.SettleAsync(stripeEvent, events, apply, Time, cancellationToken);
            }
        }
    }
}

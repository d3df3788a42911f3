namespace CheckoutService.Webhooks;

/// <summary>
/// Applies recorded events that could not be applied when they came, mostly events that overtook
/// their order's 201. Any replica may run it at the same time as another: an event's change is
/// made once by its id, and settling is conditional.
/// </summary>
internal sealed partial class UnsettledWebhookEvents(
    WebhookEventStore events, ApplyStripeEvent apply, TimeProvider time, ILogger<UnsettledWebhookEvents> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private const int Batch = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SettleWaitingAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPassFailed(logger, e.GetType().Name);
            }
        }
    }

    public async Task SettleWaitingAsync(CancellationToken cancellationToken)
    {
        foreach (var payload in await events.UnsettledPayloadsAsync(Batch, cancellationToken))
        {
            if (StripeEvent.Parse(payload) is { } stripeEvent)
            {
                await WebhooksApi.SettleAsync(stripeEvent, events, apply, time, cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A pass over waiting webhook events failed ({Failure}); the next one retries")]
    private static partial void LogPassFailed(ILogger logger, string failure);
}

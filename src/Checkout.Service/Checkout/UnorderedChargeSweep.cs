using CheckoutService.Edge;
using CheckoutService.Orders;
using CheckoutService.Payments;
using CheckoutService.Storage;
using Microsoft.Extensions.Options;

namespace CheckoutService.Checkout;

/// <summary>
/// No charge without an order. Every purchase is journalled before its intent is created; this
/// sweep, on one replica at a time, takes the purchases still open well after the checkout
/// deadline, asks the gateway what happened under each one's key, and voids what has no order:
/// the charge whose answer was lost, or whose order could not be saved and whose void failed.
/// </summary>
public sealed partial class UnorderedChargeSweep(
    PaymentJournal journal, IServiceProvider services, IOrderStore orders, Database database, TimeProvider time,
    IOptions<CheckoutSettings> settings, ILogger<UnorderedChargeSweep> logger) : PeriodicWork(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(30);

    /// <summary>Past the deadline by this much, a purchase is certainly not running any more.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(15);

    private const long LockId = 4603;
    private const int Batch = 100;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepOnceAsync(cancellationToken);

    /// <summary>One pass; false when another replica is sweeping now.</summary>
    public Task<bool> SweepOnceAsync(CancellationToken cancellationToken) =>
        database.RunAloneAsync(LockId, async () =>
        {
            var cutoff = Time.GetUtcNow() - TimeSpan.FromMilliseconds(settings.Value.CheckoutDeadlineMs) - Margin;
            foreach (var entry in await journal.OpenAsync(cutoff, Batch, cancellationToken))
            {
                if (await SettleAsync(entry, cancellationToken) is { } outcome)
                {
                    await journal.SettleAsync(entry.IdempotencyKey, outcome, Time.GetUtcNow(), cancellationToken);
                }
            }
        }, cancellationToken);

    /// <summary>How the purchase ended, or null to look again next pass (the gateway did not answer).</summary>
    private async Task<string?> SettleAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        // A typed HttpClient per pass, made after the host (and the embedded simulator) started.
        var gateway = services.GetRequiredService<IPaymentGateway>();
        var requestId = Ids.Request();
        var lookup = await gateway.FindAsync(entry.IdempotencyKey, requestId, cancellationToken);
        if (!lookup.Answered)
        {
            return null;
        }
        if (lookup.Intent is not { } intent)
        {
            return "no_intent";
        }
        if (await orders.FindByPaymentIntentAsync(intent.IntentId, cancellationToken) is not null)
        {
            return "ordered";
        }
        if (intent.Status is "canceled" or "refunded")
        {
            return "voided";
        }
        if (!await gateway.VoidAsync(intent.IntentId, requestId, cancellationToken))
        {
            return null;
        }
        LogVoided(logger, intent.IntentId, entry.CartId, intent.Charged);
        return intent.Charged ? "refunded" : "canceled";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Voided payment intent {IntentId} of cart {CartId}, which had no order (it was charged: {Charged})")]
    private static partial void LogVoided(ILogger logger, string intentId, string cartId, bool charged);
}

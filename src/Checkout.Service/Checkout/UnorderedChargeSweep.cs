using CheckoutService.Payments;
using CheckoutService.Storage;
using Microsoft.Extensions.Options;

namespace CheckoutService.Checkout;

/// <summary>
/// No charge without an order. Every purchase is journalled before its intent is created; this
/// sweep, on one replica at a time, takes the purchases still open well after the checkout
/// deadline, asks the gateway what happened under each one's key, and voids what has no order:
/// the charge whose answer was lost, or whose order could not be saved and whose void failed.
/// Purchases waiting for their shopper to authenticate are asked about on every pass instead: the
/// charged become their orders, so a shopper who closed the tab gets the order within a minute.
/// </summary>
public sealed class UnorderedChargeSweep(
    PaymentJournal journal, UnorderedCharges charges, AwaitingAuthentication awaiting, Database database, TimeProvider time,
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
                await charges.SettleAsync(entry, cancellationToken);
            }
            await awaiting.SettleWaitingAsync(Batch, cancellationToken);
        }, cancellationToken);
}

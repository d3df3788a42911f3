using CheckoutService.Orders;
using CheckoutService.Payments;
using CheckoutService.Sessions;
using CheckoutService.Storage;
using Microsoft.Extensions.Options;

namespace CheckoutService.Checkout;

/// <summary>
/// Tells of every guest session that expired without an order, once. Every few seconds, on every
/// replica, it takes the sessions due in the expiry index and for each one:
/// a renewed session is moved on; one that became an order (or whose cart another session
/// ordered) is simply forgotten; otherwise any payment it left holding money is voided, and a
/// <c>cart.abandonment</c> event is written to the outbox under an id derived from the session,
/// so a second replica, or this one after a crash, writes the same row or nothing. Only then are
/// the session and its index entry removed: a crash anywhere repeats the step, never skips it.
/// </summary>
public sealed class AbandonedSessionSweep(
    SessionStore sessions, IOrderStore orders, PaymentJournal journal, UnorderedCharges charges, Outbox outbox,
    TimeProvider time, IOptions<CheckoutSettings> settings, ILogger<AbandonedSessionSweep> logger) : PeriodicWork(time, logger)
{
    public const int Batch = 200;

    /// <summary>How long a session is looked at again later when a payment of its cart may still be running or the gateway did not answer.</summary>
    public static readonly TimeSpan Postponement = TimeSpan.FromSeconds(15);

    protected override TimeSpan Interval => TimeSpan.FromSeconds(5);

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        // Drain what is due, a batch at a time, so a burst of expiries is told within the minute.
        while (await SweepOnceAsync(cancellationToken) is { Looked: Batch })
        {
        }
    }

    /// <summary>One batch: how many sessions were looked at, and how many abandonment events this call wrote.</summary>
    public async Task<(int Looked, int Emitted)> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var due = await sessions.DueAsync(now, Batch, cancellationToken);
        var emitted = 0;
        foreach (var (sessionId, scheduledAt) in due)
        {
            if (await SettleAsync(sessionId, scheduledAt, now, cancellationToken))
            {
                emitted++;
            }
        }
        return (due.Count, emitted);
    }

    private async Task<bool> SettleAsync(string sessionId, DateTimeOffset scheduledAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await sessions.PeekAsync(sessionId, cancellationToken) is not { } stored)
        {
            await sessions.ForgetAsync(sessionId, scheduledAt, cancellationToken); // kept past KeptAfterExpiry, or never written
            return false;
        }
        if (stored.ExpiresAt > now)
        {
            await sessions.RescheduleAsync(sessionId, stored.ExpiresAt, cancellationToken);
            return false;
        }
        var written = false;
        var session = stored.Session;
        if (session.Status != SessionStatus.Completed && await orders.FindByCartAsync(session.CartId, cancellationToken) is null)
        {
            if (await PaymentStateAsync(session, now, cancellationToken) is not { } paymentState)
            {
                await sessions.RescheduleAsync(sessionId, now + Postponement, cancellationToken);
                return false;
            }
            written = await outbox.AddAsync(CartAbandonmentEvent.Of(stored, paymentState, now), cancellationToken);
        }
        await sessions.ForgetAsync(sessionId, scheduledAt, cancellationToken);
        return written;
    }

    /// <summary>What became of the cart's payments, voiding any left holding money; null when one may still be running.</summary>
    private async Task<string?> PaymentStateAsync(GuestSession session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var purchases = await journal.ForCartAsync(session.CartId, cancellationToken);
        if (purchases.Count == 0)
        {
            return session.PaymentMethodId is null ? CartAbandonmentEvent.NoPayment : CartAbandonmentEvent.PaymentMethodSaved;
        }
        var stillRunningAfter = now - TimeSpan.FromMilliseconds(settings.Value.CheckoutDeadlineMs) - UnorderedChargeSweep.Margin;
        var voided = false;
        foreach (var (entry, outcome) in purchases)
        {
            var settled = outcome;
            if (settled is null)
            {
                if (entry.StartedAt > stillRunningAfter)
                {
                    return null;
                }
                settled = await charges.SettleAsync(entry, cancellationToken);
                if (settled is null)
                {
                    return null;
                }
            }
            voided |= UnorderedCharges.Voided.Contains(settled);
        }
        return voided ? CartAbandonmentEvent.AuthorizationVoided : CartAbandonmentEvent.Attempted;
    }
}

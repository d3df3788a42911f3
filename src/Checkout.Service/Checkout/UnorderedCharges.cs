using CheckoutService.Edge;
using CheckoutService.Orders;
using CheckoutService.Payments;

namespace CheckoutService.Checkout;

/// <summary>
/// Settles a journalled purchase that has no order: asks the gateway what happened under its key
/// and voids what was authorised or charged. Used by the sweep of stale purchases and by the
/// abandonment of a session, so both void the same way.
/// </summary>
public sealed partial class UnorderedCharges(
    PaymentJournal journal, IPaymentGateway gateway, IOrderStore orders, TimeProvider time, ILogger<UnorderedCharges> logger)
{
    /// <summary>Outcomes that mean money was held and is now released.</summary>
    public static readonly IReadOnlySet<string> Voided = new HashSet<string>(StringComparer.Ordinal) { "voided", "canceled", "refunded" };

    /// <summary>How the purchase ended (now written in the journal), or null to look again later (the gateway did not answer).</summary>
    public async Task<string?> SettleAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var outcome = await FindOutcomeAsync(entry, cancellationToken);
        if (outcome is not null)
        {
            await journal.SettleAsync(entry.IdempotencyKey, outcome, time.GetUtcNow(), cancellationToken);
        }
        return outcome;
    }

    private async Task<string?> FindOutcomeAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
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

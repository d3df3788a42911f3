using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Carts;
using CheckoutService.Edge;
using CheckoutService.Observability;
using CheckoutService.Orders;
using CheckoutService.Payments;
using CheckoutService.Sessions;
using PaymentGateway.Contracts;

namespace CheckoutService.Checkout;

/// <summary>
/// Purchases whose shopper must authenticate (3-D Secure). The checkout that meets the challenge
/// keeps its cart claimed and writes the order it will become into the journal. Whichever comes
/// first then settles it, the same way: the shopper's retry, Stripe's webhook, or the sweep. Each
/// asks the gateway how the intent stands; a charged intent becomes that order (even if the
/// shopper closed the tab), a failed or expired one gives the cart back for another card.
/// </summary>
public sealed partial class AwaitingAuthentication(
    PaymentJournal journal,
    IPaymentGateway gateway,
    IOrderStore orders,
    CartStore carts,
    GuestSessions sessions,
    TimeProvider time,
    CheckoutMetrics metrics,
    ILogger<AwaitingAuthentication> logger)
{
    /// <summary>How long a challenge stays open before its intent is canceled and the cart given back.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan ClaimMargin = TimeSpan.FromMinutes(2);

    /// <summary>How a purchase that waited for authentication stands.</summary>
    public abstract record Standing
    {
        private Standing()
        {
        }

        /// <summary>It is an order (<paramref name="Created"/>: by this call).</summary>
        public sealed record Ordered(Order Order, bool Created) : Standing;

        /// <summary>The challenge is still open.</summary>
        public sealed record Waiting : Standing;

        /// <summary>It ended without an order; the cart is open again.</summary>
        public sealed record GivenBack : Standing;

        /// <summary>The gateway could not say; asked again on the next pass.</summary>
        public sealed record Unknown : Standing;
    }

    /// <summary>The purchase waits for its shopper, its cart held and its order written down.</summary>
    public async Task WaitAsync(string gatewayKey, PendingOrder pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var until = time.GetUtcNow() + Window;
        // The cart is held a while past the window, so the sweep cancels an unanswered intent before anyone else can claim the cart.
        await Task.WhenAll(
            journal.AwaitAuthenticationAsync(gatewayKey, pending.Order.PaymentIntentId, until, pending.ToJson(), cancellationToken),
            carts.ExtendClaimAsync(pending.Order.CartId, pending.ClaimId, until + ClaimMargin, cancellationToken));
    }

    /// <summary>The purchase of this cart that waited for authentication most recently, settled or not.</summary>
    public async Task<AwaitingPurchase?> LatestForCartAsync(string cartId, CancellationToken cancellationToken) =>
        await journal.AwaitedForCartAsync(cartId, cancellationToken) is [var latest, ..] ? latest : null;

    /// <summary>Stripe says the intent moved: the purchase waiting on it, if any, is settled now. Null when none waits.</summary>
    public async Task<Standing?> SettleByIntentAsync(string intentId, CancellationToken cancellationToken) =>
        await journal.AwaitedByIntentAsync(intentId, cancellationToken) is { Outcome: null } awaiting
            ? await SettleAsync(awaiting, cancellationToken)
            : null;

    /// <summary>One pass over the purchases still waiting: the sweep's, for the shopper who never came back.</summary>
    public async Task SettleWaitingAsync(int limit, CancellationToken cancellationToken)
    {
        foreach (var awaiting in await journal.AwaitingAsync(limit, cancellationToken))
        {
            await SettleAsync(awaiting, cancellationToken);
        }
    }

    /// <summary>Asks the gateway how the intent stands, and settles the purchase if it has ended.</summary>
    public async Task<Standing> SettleAsync(AwaitingPurchase awaiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(awaiting);
        var pending = PendingOrder.FromJson(awaiting.PendingOrder);
        var requestId = Ids.Request();
        var lookup = await gateway.FindAsync(awaiting.Entry.IdempotencyKey, requestId, cancellationToken);
        if (!lookup.Answered)
        {
            return new Standing.Unknown();
        }
        switch (lookup.Intent)
        {
            case { Status: IntentStatus.Succeeded, ChargeId: { } chargeId }:
                return await PlaceAsync(awaiting, pending, chargeId, cancellationToken);
            case { Status: IntentStatus.RequiresAction } when time.GetUtcNow() < awaiting.AwaitingUntil:
                return new Standing.Waiting();
            case { Status: IntentStatus.RequiresAction } open:
                // Never answered: canceled at the gateway first, so a late answer cannot charge a cart given back.
                if (!await gateway.VoidAsync(open.IntentId, requestId, cancellationToken))
                {
                    return new Standing.Unknown();
                }
                return await GiveBackAsync(awaiting, pending, "expired", cancellationToken);
            default:
                // Failed by the shopper or the bank (or canceled): nothing is held at the gateway.
                return await GiveBackAsync(awaiting, pending, "failed", cancellationToken);
        }
    }

    /// <summary>
    /// Abandons the challenge for another card: cancels the intent unless it was charged meanwhile,
    /// in which case it is the order.
    /// </summary>
    public async Task<Standing> AbandonAsync(AwaitingPurchase awaiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(awaiting);
        var standing = await SettleAsync(awaiting, cancellationToken);
        if (standing is not Standing.Waiting)
        {
            return standing;
        }
        if (!await gateway.VoidAsync(awaiting.IntentId, Ids.Request(), cancellationToken))
        {
            return new Standing.Unknown();
        }
        return await GiveBackAsync(awaiting, PendingOrder.FromJson(awaiting.PendingOrder), "abandoned", cancellationToken);
    }

    /// <summary>The intent was charged: the order written down at the challenge is placed, once, whoever gets here first.</summary>
    public async Task<Standing> PlaceAsync(AwaitingPurchase awaiting, PendingOrder pending, string chargeId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(awaiting);
        ArgumentNullException.ThrowIfNull(pending);
        var now = time.GetUtcNow();
        var order = pending.Order with { ChargeId = chargeId, CreatedAt = now, EstimatedDelivery = DeliveryEstimate.For(now) };
        var created = await orders.TryAddAsync(order, cancellationToken);
        if (!created)
        {
            var existing = await orders.FindByCartAsync(order.CartId, cancellationToken);
            if (existing is null || existing.PaymentIntentId != order.PaymentIntentId)
            {
                // The cart was ordered by another purchase: this charge can no longer become an order.
                LogVoidingOrphan(logger, order.PaymentIntentId, order.CartId);
                if (!await gateway.VoidAsync(order.PaymentIntentId, Ids.Request(), cancellationToken))
                {
                    return new Standing.Unknown();
                }
                await journal.SettleAsync(awaiting.Entry.IdempotencyKey, "refunded", now, cancellationToken);
                return new Standing.GivenBack();
            }
            order = existing;
        }
        else
        {
            metrics.PaymentAuthentications.WithLabels("succeeded").Inc();
            metrics.CheckoutCompleted.WithLabels(CheckoutMetrics.GuestV2, metrics.Region).Inc();
            LogPlacedAfterAuthentication(logger, order.OrderId, order.CartId, order.PaymentIntentId);
        }
        await Task.WhenAll(
            journal.SettleAsync(awaiting.Entry.IdempotencyKey, "ordered", now, cancellationToken),
            carts.MarkCheckedOutAsync(order.CartId, order.OrderId, cancellationToken),
            sessions.CompleteAsync(order.SessionId, order.PaymentIntentId, cancellationToken));
        return new Standing.Ordered(order, created);
    }

    /// <summary>No order will come of it: the journal says how it ended, and the cart and session are the shopper's again.</summary>
    private async Task<Standing> GiveBackAsync(AwaitingPurchase awaiting, PendingOrder pending, string outcome, CancellationToken cancellationToken)
    {
        metrics.PaymentAuthentications.WithLabels(outcome).Inc();
        LogGivenBack(logger, awaiting.IntentId, pending.Order.CartId, outcome);
        await Task.WhenAll(
            journal.SettleAsync(awaiting.Entry.IdempotencyKey, "authentication_" + outcome, time.GetUtcNow(), cancellationToken),
            carts.ReleaseClaimAsync(pending.Order.CartId, pending.ClaimId, cancellationToken),
            sessions.ResumeAsync(pending.Order.SessionId, pending.ClaimId, cancellationToken));
        return new Standing.GivenBack();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Placed order {OrderId} for cart {CartId} after its shopper authenticated payment intent {IntentId}")]
    private static partial void LogPlacedAfterAuthentication(ILogger logger, string orderId, string cartId, string intentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment intent {IntentId} of cart {CartId} was not authenticated ({Outcome}); the cart is open again")]
    private static partial void LogGivenBack(ILogger logger, string intentId, string cartId, string outcome);

    [LoggerMessage(Level = LogLevel.Error, Message = "Voiding authenticated payment intent {IntentId}: cart {CartId} was ordered by another purchase")]
    private static partial void LogVoidingOrphan(ILogger logger, string intentId, string cartId);
}

/// <summary>
/// The order a purchase becomes once its shopper authenticates, as the checkout built it, and the
/// claim that holds its cart meanwhile. Its confirmation token's hash is of a token nobody holds:
/// the shopper's retry is handed a fresh one, once (<see cref="IOrderStore.ReplaceConfirmationTokenAsync"/>).
/// </summary>
public sealed record PendingOrder(Order Order, string ClaimId)
{
    public string ToJson() => JsonSerializer.Serialize(this, PendingOrderJson.Default.PendingOrder);

    public static PendingOrder FromJson(string json) =>
        JsonSerializer.Deserialize(json, PendingOrderJson.Default.PendingOrder) ?? throw new JsonException("The journal's pending order is empty");
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PendingOrder))]
internal sealed partial class PendingOrderJson : JsonSerializerContext;

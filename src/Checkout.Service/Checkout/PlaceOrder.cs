using System.Diagnostics;
using CheckoutService.Carts;
using CheckoutService.Edge;
using CheckoutService.Observability;
using CheckoutService.Orders;
using CheckoutService.Payments;
using CheckoutService.RateLimits;
using CheckoutService.Sessions;
using CheckoutService.Storage;
using Microsoft.Extensions.Options;
using Prometheus;

namespace CheckoutService.Checkout;

/// <summary>
/// Turns a cart into one paid order. The cart is claimed before the card is charged, so of any
/// number of tabs, retries or replicas only one pays; the gateway's idempotency key is derived
/// from what is bought, so even a repeat that slips past the claim cannot charge twice; and the
/// orders table holds at most one order per cart.
/// </summary>
public sealed partial class PlaceOrder(
    CartStore carts,
    Catalog catalog,
    GuestSessions sessions,
    IPaymentGateway gateway,
    PaymentJournal journal,
    AwaitingAuthentication awaiting,
    IOrderStore orders,
    DeclineLimits declineLimits,
    TimeProvider time,
    IOptions<CheckoutSettings> settings,
    CheckoutMetrics metrics,
    ILogger<PlaceOrder> logger)
{
    /// <summary>How long a claim freezes the cart: longer than any checkout may run, short enough that a crash does not freeze it for good.</summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromSeconds(90);

    private static readonly CheckoutRequestValidator Validator = new();

    /// <param name="ifMatch">The request's <c>If-Match</c>: the cart's ETag as the shopper reviewed it.</param>
    public async Task<PlaceOrderOutcome> RunAsync(
        CheckoutRequest request, string? sessionToken, HttpContext context, CancellationToken cancellationToken, string? ifMatch = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var span = CheckoutTelemetry.Source.StartActivity(CheckoutTelemetry.CompleteSpan);
        span?.SetTag(CheckoutTelemetry.CartId, request.CartId);
        var started = time.GetTimestamp();
        using var inFlight = metrics.CheckoutsInFlight.TrackInProgress();
        try
        {
            var outcome = await PlaceAsync(request, sessionToken, ifMatch, context, cancellationToken);
            switch (outcome)
            {
                case PlaceOrderOutcome.Placed { Resumed: true }:
                    // Placed from the journal after 3-D Secure, and counted there, whoever got there first.
                    span?.SetStatus(ActivityStatusCode.Ok);
                    break;
                case PlaceOrderOutcome.Placed:
                    span?.SetStatus(ActivityStatusCode.Ok);
                    metrics.CheckoutCompleted.WithLabels(CheckoutMetrics.GuestV2, metrics.Region).Inc();
                    metrics.CheckoutCompletionDuration.WithLabels(CheckoutMetrics.GuestV2).Observe(time.GetElapsedTime(started).TotalSeconds);
                    break;
                case PlaceOrderOutcome.Refused { Error: var error }:
                    // The shopper's own refusals (not found, conflicts) are not errors of the service's.
                    if (error.Status is >= 402 and not 404 and not 409 and not 422)
                    {
                        span?.SetStatus(ActivityStatusCode.Error, error.Code);
                    }
                    metrics.CheckoutErrors.WithLabels(CheckoutMetrics.GuestV2, error.Code).Inc();
                    break;
                case PlaceOrderOutcome.CartChanged:
                    metrics.CheckoutErrors.WithLabels(CheckoutMetrics.GuestV2, ErrorCodes.CartChanged).Inc();
                    break;
                case PlaceOrderOutcome.Declined { DeclineCode: var code }:
                    span?.SetStatus(ActivityStatusCode.Error, "declined: " + code);
                    metrics.CheckoutErrors.WithLabels(CheckoutMetrics.GuestV2, ErrorCodes.PaymentDeclined).Inc();
                    break;
            }
            return outcome;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            metrics.CheckoutErrors.WithLabels(CheckoutMetrics.GuestV2, ErrorCodes.InternalError).Inc();
            throw;
        }
    }

    /// <summary>Resolve → Claim → Pay → Record. A claim held at the end without an order is let go.</summary>
    private async Task<PlaceOrderOutcome> PlaceAsync(
        CheckoutRequest request, string? sessionToken, string? ifMatch, HttpContext context, CancellationToken cancellationToken)
    {
        var resolved = await ResolveAsync(request, sessionToken, ifMatch, context, cancellationToken);
        if (resolved.Value is not { } purchase)
        {
            return resolved.Answer!;
        }
        var hold = await ClaimAsync(purchase, cancellationToken);
        if (hold.Claimed.Outcome is CartChangeOutcome.CheckingOut or CartChangeOutcome.CheckedOut
            && await AwaitedAsync(purchase, hold, context, cancellationToken) is { } awaited)
        {
            if (awaited.Value is not { } reclaimed)
            {
                return awaited.Answer!;
            }
            hold = reclaimed;
        }
        try
        {
            var claimed = await ClaimedCartAsync(purchase, hold, cancellationToken);
            if (claimed.Value is not { } cart)
            {
                return claimed.Answer!;
            }
            var paid = await PayAsync(purchase, cart, hold, context, cancellationToken);
            if (paid.Value is not { } payment)
            {
                return paid.Answer!;
            }
            return await RecordAsync(purchase, cart, hold, payment, context);
        }
        finally
        {
            if (!hold.Placed)
            {
                await LetGoAsync(purchase, hold);
            }
        }
    }

    /// <summary>
    /// Resolve: the request checked, the session its token opens, the address and card from either,
    /// the declines so far, and the reviewed total against the cart read ahead. Nothing is written.
    /// </summary>
    private async Task<Step<Purchase>> ResolveAsync(
        CheckoutRequest request, string? sessionToken, string? ifMatch, HttpContext context, CancellationToken cancellationToken)
    {
        var errors = ValidationFailed.ErrorsOf(Validator.Validate(request)).ToList();
        if (errors.Any(e => e.Field == "cart_id"))
        {
            return new PlaceOrderOutcome.Invalid(errors);
        }
        var cartId = request.CartId!;
        var readAhead = ReadAhead.Taken<CheckoutReads>(context) is { } started ? await started : null;

        // What the request leaves out, the shopper's session may hold, but only for the holder of its
        // token: a cart id and an email never unlock a saved card or address (docs/decisions/0006).
        StoredSession? session = null;
        if (sessionToken is not null)
        {
            session = readAhead is not null ? readAhead.Session : await sessions.OpenAsync(null, sessionToken, cancellationToken);
            if (session is null || session.Session.CartId != cartId)
            {
                return new PlaceOrderOutcome.Refused(Errors.SessionExpired);
            }
        }

        // Card testing is bounded before any claim, so a refused checkout reaches no gateway.
        var declines = readAhead?.CartId == cartId && readAhead.Declines is { } read
            ? read
            : await declineLimits.ReadAsync(cartId, session?.Session.SessionId, context, cancellationToken);
        if (declineLimits.Refusal(declines) is { } refused)
        {
            return new PlaceOrderOutcome.Refused(refused);
        }

        var address = request.ShippingAddress ?? session?.Session.ShippingAddress;
        if (address is null)
        {
            errors.Add(new FieldError("shipping_address", FieldCodes.Required, "Shipping address is required",
                "Object with line1, city, state, zip, country required"));
        }
        if (errors.Count > 0)
        {
            return new PlaceOrderOutcome.Invalid(errors);
        }
        // The card is asked for once the shopper's details are right, as the page's sections go.
        var paymentMethodId = string.IsNullOrEmpty(request.PaymentMethodId) ? session?.Session.PaymentMethodId : request.PaymentMethodId;
        if (paymentMethodId is null)
        {
            return new PlaceOrderOutcome.Invalid([new FieldError("payment_method_id", FieldCodes.Required, "Payment method is required",
                "A payment method id (pm_...) from the payment form")]);
        }
        var reviewed = ReviewedCart.Of(request, ifMatch);
        var seenCart = readAhead?.CartId == cartId ? readAhead.Cart : null;
        var seenOpen = (session is not null || reviewed is not null) && seenCart?.Entry?.Value is { } seen && seen.StatusAt(time.GetUtcNow()) == CartStatus.Open
            ? CartView.Of(seen, catalog, time.GetUtcNow())
            : null;
        // The shopper pays what they reviewed or nothing (docs/decisions/0013). The cart read ahead
        // answers at no cost, before anything is claimed; the claim checks again, atomically, for a
        // change that landed since that read.
        if (reviewed is not null && seenOpen is not null && !reviewed.Matches(seenOpen))
        {
            return new PlaceOrderOutcome.CartChanged(seenOpen);
        }
        return new Purchase(cartId, request.Email!, session, address!.Normalized(), paymentMethodId, reviewed, seenCart, seenOpen);
    }

    /// <summary>
    /// Claim: the cart, in one atomic step (checked again against what was reviewed), and the
    /// session's switch to paying in the same round trip when the cart was read ahead.
    /// </summary>
    private async Task<Hold> ClaimAsync(Purchase purchase, CancellationToken cancellationToken)
    {
        var claim = new CheckoutClaim(Guid.NewGuid().ToString("N"), time.GetUtcNow() + ClaimLease);
        var reviewed = purchase.Reviewed;
        // The session takes no claim but this one's, so if the claim loses, the session is only put
        // back; if the claim found a newer cart than the one read, the session is told of it after.
        var guessed = purchase.Session is not null ? purchase.SeenOpen : null;
        var claiming = carts.ClaimForCheckoutAsync(purchase.CartId, claim.Id, claim.ExpiresAt, cancellationToken, purchase.SeenCart,
            reviewed is null ? null : cart => reviewed.Matches(CartView.Of(cart, catalog, time.GetUtcNow())));
        var beginning = guessed is { Items.Count: > 0 }
            ? sessions.BeginPaymentAsync(purchase.Session!, CartSnapshot.Of(guessed), purchase.Shipping, purchase.PaymentMethodId, claim, cancellationToken)
            : null;
        try
        {
            await Task.WhenAll(claiming, beginning ?? Task.FromResult<StoredSession?>(null));
        }
        catch when (beginning is { IsCompletedSuccessfully: true, Result: { } begun })
        {
            // The claim failed in the store (an outage): the session it began paying with goes back to the shopper.
            await sessions.ResumeAsync(begun, CancellationToken.None);
            throw;
        }
        return new Hold(claim, await claiming) { Paying = beginning is null ? null : await beginning };
    }

    /// <summary>
    /// The claim's answer: the cart to pay for, held by this checkout with its session paying, or
    /// why not (gone, changed since review, ordered, or another checkout paying).
    /// </summary>
    private async Task<Step<CartView>> ClaimedCartAsync(Purchase purchase, Hold hold, CancellationToken cancellationToken)
    {
        var cartId = purchase.CartId;
        switch (hold.Claimed.Outcome)
        {
            case CartChangeOutcome.NotFound:
                return new PlaceOrderOutcome.Refused(Errors.CartNotFound(cartId));
            case CartChangeOutcome.VersionConflict:
                return new PlaceOrderOutcome.CartChanged(CartView.Of(hold.Claimed.Cart!, catalog, time.GetUtcNow()));
            case CartChangeOutcome.CheckedOut:
                return new PlaceOrderOutcome.Refused(Errors.CartCheckedOut(cartId));
            case CartChangeOutcome.CheckingOut:
                // Another checkout is paying, or one paid and then lost the store before it could say so.
                return new PlaceOrderOutcome.Refused((await carts.SettleAsync(hold.Claimed.Cart!, cancellationToken)).Status == CartStatus.CheckedOut
                    ? Errors.CartCheckedOut(cartId)
                    : Errors.CheckoutInProgress(cartId));
        }
        // The claim may have taken over from a checkout that placed its order: never pay for a cart twice.
        if ((await carts.SettleAsync(hold.Claimed.Cart!, cancellationToken)).Status == CartStatus.CheckedOut)
        {
            return new PlaceOrderOutcome.Refused(Errors.CartCheckedOut(cartId));
        }

        var cart = CartView.Of(hold.Claimed.Cart!, catalog, time.GetUtcNow());
        if (cart.Items.Count == 0)
        {
            return new PlaceOrderOutcome.Refused(Errors.CartEmpty(cartId));
        }
        if (hold.Paying is null || hold.Paying.Session.Cart.CartVersion != cart.Version)
        {
            // Paying holds the session, so it cannot be edited or expire under the payment; a shopper
            // who came without one gets one that is paying already.
            var snapshot = CartSnapshot.Of(cart);
            hold.Paying = (purchase.Session is null ? null
                    : await sessions.BeginPaymentAsync(hold.Paying ?? purchase.Session, snapshot, purchase.Shipping, purchase.PaymentMethodId, hold.Claim, cancellationToken))
                ?? await sessions.StartPayingAsync(cartId, snapshot, purchase.Email, purchase.Shipping, purchase.PaymentMethodId, hold.Claim, cancellationToken);
        }
        return cart;
    }

    /// <summary>
    /// Pay: journalled before the intent exists, charged under the checkout's own deadline. A decline
    /// is counted against card testing; anything but a charge is the gateway's failure, safe to retry.
    /// </summary>
    private async Task<Step<Paid>> PayAsync(
        Purchase purchase, CartView cart, Hold hold, HttpContext context, CancellationToken cancellationToken)
    {
        var sessionId = hold.Paying!.Session.SessionId;
        // Written down before the intent exists, so a charge whose order never comes is found and voided.
        var gatewayKey = GatewayKey(purchase.CartId, cart.Version, purchase.PaymentMethodId);
        await journal.StartAsync(new JournalEntry(gatewayKey, purchase.CartId, cart.Subtotal.Cents, time.GetUtcNow()), cancellationToken);
        var payment = await ChargeAsync(new PaymentRequest(
            cart.Subtotal, cart.Currency, purchase.PaymentMethodId, purchase.CartId, sessionId, gatewayKey, context.TraceIdentifier, ReturnUrl(purchase.CartId, context)));
        switch (payment)
        {
            case PaymentResult.Succeeded charged:
                return new Paid(charged, gatewayKey);
            case PaymentResult.Declined declined:
                // Counted alongside the claim's release, so the decline costs the shopper no extra wait.
                hold.CountingDecline = declineLimits.CountAsync(purchase.CartId, sessionId, context, CancellationToken.None);
                return new PlaceOrderOutcome.Declined(declined.Code);
            case PaymentResult.RequiresAction challenge:
                // The cart stays held, and the order it will become is written down, so it is placed
                // even if the shopper never comes back from their bank (AwaitingAuthentication).
                var pending = new PendingOrder(OrderOf(purchase, cart, hold.Paying, challenge.IntentId, "", Sha256.Hex(Ids.ConfirmationToken()), time.GetUtcNow()), hold.Claim.Id);
                await awaiting.WaitAsync(gatewayKey, pending, cancellationToken);
                hold.Placed = true;
                metrics.PaymentIntentErrors.WithLabels(CheckoutMetrics.GuestCheckoutType, CheckoutMetrics.AuthenticationRequired).Inc();
                LogAuthenticationRequired(logger, challenge.IntentId, purchase.CartId);
                return new PlaceOrderOutcome.AuthenticationRequired(challenge.IntentId, challenge.ClientSecret, challenge.RedirectUrl);
            default:
                return new PlaceOrderOutcome.Refused(Errors.PaymentGatewayUnavailable);
        }
    }

    /// <summary>
    /// Once paying starts it runs to an answer even if the shopper's connection drops (so a retry
    /// finds a finished payment), but never past the deadline, which stays under the gateway's 60 s.
    /// </summary>
    private async Task<PaymentResult> ChargeAsync(PaymentRequest request)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(settings.Value.CheckoutDeadlineMs), time);
        try
        {
            return await gateway.ChargeAsync(request, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The outcome is unknown; the shopper's retry uses the same gateway key, so it finds this payment.
            return new PaymentResult.Unavailable("checkout deadline passed");
        }
    }

    /// <summary>
    /// The cart is held, or was ordered, by a purchase that waited for its shopper to authenticate.
    /// The same purchase sent again (same card, same email) finishes it: an order, the challenge
    /// again, or the cart given back. Another card abandons it and claims the cart afresh. Null when
    /// no such purchase holds the cart, so the claim's own answer stands.
    /// </summary>
    private async Task<Step<Hold>?> AwaitedAsync(Purchase purchase, Hold hold, HttpContext context, CancellationToken cancellationToken)
    {
        if (await awaiting.LatestForCartAsync(purchase.CartId, cancellationToken) is not { } awaited)
        {
            return null;
        }
        var pending = PendingOrder.FromJson(awaited.PendingOrder);
        var samePurchase = pending.Order.PaymentMethodId == purchase.PaymentMethodId
            && string.Equals(pending.Order.Email, purchase.Email, StringComparison.OrdinalIgnoreCase);
        if (hold.Claimed.Outcome == CartChangeOutcome.CheckedOut)
        {
            // Placed by the webhook or the sweep while the shopper was away: their retry is handed its confirmation.
            if (awaited.Outcome == "ordered" && samePurchase)
            {
                return await ConfirmAsync(pending);
            }
            return null;
        }
        if (awaited.Outcome is not null || hold.Claimed.Cart?.CheckoutClaimId != pending.ClaimId)
        {
            return null; // another checkout holds the cart
        }
        if (!samePurchase)
        {
            return await awaiting.AbandonAsync(awaited, cancellationToken) switch
            {
                AwaitingAuthentication.Standing.GivenBack => await ClaimAsync(purchase, cancellationToken),
                AwaitingAuthentication.Standing.Ordered => new PlaceOrderOutcome.Refused(Errors.CartCheckedOut(purchase.CartId)),
                _ => new PlaceOrderOutcome.Refused(Errors.PaymentGatewayUnavailable),
            };
        }
        var order = pending.Order;
        // The same gateway key: the gateway answers how this intent stands, and never charges it twice.
        var payment = await ChargeAsync(new PaymentRequest(order.Total, order.Currency, order.PaymentMethodId, order.CartId, order.SessionId,
            awaited.Entry.IdempotencyKey, context.TraceIdentifier, ReturnUrl(order.CartId, context)));
        switch (payment)
        {
            case PaymentResult.Succeeded charged:
                return await awaiting.PlaceAsync(awaited, pending, charged.ChargeId, cancellationToken) switch
                {
                    AwaitingAuthentication.Standing.Ordered => await ConfirmAsync(pending),
                    AwaitingAuthentication.Standing.GivenBack => new PlaceOrderOutcome.Refused(Errors.CartCheckedOut(purchase.CartId)),
                    _ => new PlaceOrderOutcome.Refused(Errors.PaymentGatewayUnavailable),
                };
            case PaymentResult.RequiresAction challenge:
                return new PlaceOrderOutcome.AuthenticationRequired(challenge.IntentId, challenge.ClientSecret, challenge.RedirectUrl);
            case PaymentResult.Declined declined:
                await Task.WhenAll(
                    awaiting.SettleAsync(awaited, cancellationToken),
                    declineLimits.CountAsync(purchase.CartId, order.SessionId, context, CancellationToken.None));
                return declined.Code == AuthenticationFailure
                    ? new PlaceOrderOutcome.Refused(Errors.AuthenticationFailed)
                    : new PlaceOrderOutcome.Declined(declined.Code);
            default:
                return new PlaceOrderOutcome.Refused(Errors.PaymentGatewayUnavailable);
        }
    }

    /// <summary>Stripe's code for an intent whose shopper failed (or abandoned) its 3-D Secure challenge.</summary>
    private const string AuthenticationFailure = "payment_intent_authentication_failure";

    /// <summary>
    /// The order placed from the journal, answered as the checkout's 201. Its token is handed out
    /// once: the first retry replaces the hash nobody holds with its own; any later one (another
    /// tab, another key) is told the cart is ordered, as any other checkout of an ordered cart is.
    /// </summary>
    private async Task<PlaceOrderOutcome> ConfirmAsync(PendingOrder pending)
    {
        var order = pending.Order;
        var confirmationToken = Ids.ConfirmationToken();
        if (!await orders.ReplaceConfirmationTokenAsync(order.OrderId, order.ConfirmationTokenHash, Sha256.Hex(confirmationToken), CancellationToken.None))
        {
            return new PlaceOrderOutcome.Refused(Errors.CartCheckedOut(order.CartId));
        }
        var placed = await orders.GetAsync(order.OrderId, CancellationToken.None) ?? order;
        return new PlaceOrderOutcome.Placed(new CheckoutResponse(placed.OrderId, confirmationToken, placed.EstimatedDelivery, placed.Total, placed.Currency,
            CheckoutResponse.GuestV2, placed.SessionId), Resumed: true);
    }

    /// <summary>The checkout page, where the shopper's browser returns from their bank's challenge.</summary>
    private string ReturnUrl(string cartId, HttpContext context) =>
        (settings.Value.PaymentReturnUrl is { Length: > 0 } page ? page : $"{context.Request.Scheme}://{context.Request.Host}/checkout/guest")
        + "?cart_id=" + Uri.EscapeDataString(cartId);

    /// <summary>The order a paid purchase is: the cart's lines as claimed, shipped where and paid how the shopper said.</summary>
    private static Order OrderOf(Purchase purchase, CartView cart, StoredSession paying, string intentId, string chargeId, string confirmationTokenHash, DateTimeOffset placedAt) =>
        new(Ids.Order(), purchase.CartId, paying.Session.SessionId, purchase.Email, confirmationTokenHash, OrderStatus.Paid,
            cart.Subtotal, cart.Currency,
            [.. cart.Items.Select(i => new OrderLine(i.Sku, i.Name, i.UnitPrice, i.Quantity, i.LineTotal))],
            purchase.Shipping, purchase.PaymentMethodId, intentId, chargeId, DeliveryEstimate.For(placedAt), placedAt);

    /// <summary>Record: the paid order saved (or its charge voided), then the journal, cart and session closed after the answer.</summary>
    private async Task<PlaceOrderOutcome> RecordAsync(Purchase purchase, CartView cart, Hold hold, Paid paid, HttpContext context)
    {
        var paying = hold.Paying!;
        var placedAt = time.GetUtcNow();
        var confirmationToken = Ids.ConfirmationToken();
        var order = OrderOf(purchase, cart, paying, paid.Charge.IntentId, paid.Charge.ChargeId, Sha256.Hex(confirmationToken), placedAt);
        if (!await SaveOrVoidAsync(order, context.TraceIdentifier))
        {
            return new PlaceOrderOutcome.Refused(Errors.CartCheckedOut(purchase.CartId));
        }
        hold.Placed = true;
        LogOrderPlaced(logger, order.OrderId, purchase.CartId, order.Email, order.Total.Amount);
        AfterResponse(context, AfterOrderAsync(order, CartStore.AsWritten(hold.Claimed.Cart!), paying, paid.GatewayKey));
        return new PlaceOrderOutcome.Placed(new CheckoutResponse(order.OrderId, confirmationToken, order.EstimatedDelivery, order.Total, order.Currency,
            CheckoutResponse.GuestV2, paying.Session.SessionId));
    }

    /// <summary>
    /// No order: the shopper may try again at once, with this card or another. The session first,
    /// so a checkout that wins the released claim finds it free.
    /// </summary>
    private async Task LetGoAsync(Purchase purchase, Hold hold)
    {
        if (hold.Paying is not null)
        {
            await sessions.ResumeAsync(hold.Paying, CancellationToken.None);
        }
        if (hold.Claimed.Outcome == CartChangeOutcome.Applied)
        {
            await carts.ReleaseClaimAsync(purchase.CartId, hold.Claim.Id, CancellationToken.None, CartStore.AsWritten(hold.Claimed.Cart!));
        }
        if (hold.CountingDecline is not null)
        {
            await hold.CountingDecline;
        }
    }

    /// <summary>What one step of a purchase hands the next, or the answer that ends the purchase there.</summary>
    private readonly record struct Step<T>(T? Value, PlaceOrderOutcome? Answer) where T : class
    {
        public static implicit operator Step<T>(T value) => new(value, null);

        public static implicit operator Step<T>(PlaceOrderOutcome answer) => new(null, answer);
    }

    /// <summary>A purchase as resolved: whose, what to ship where, which card, what was reviewed, and the cart as read ahead.</summary>
    private sealed record Purchase(
        string CartId, string Email, StoredSession? Session, ShippingAddress Shipping, string PaymentMethodId,
        ReviewedCart? Reviewed, Seen<Cart>? SeenCart, CartView? SeenOpen);

    /// <summary>What the claim holds until the purchase ends: the cart's claim, the session paying, a decline being counted.</summary>
    private sealed class Hold(CheckoutClaim claim, CartChange claimed)
    {
        public CheckoutClaim Claim { get; } = claim;

        public CartChange Claimed { get; } = claimed;

        public StoredSession? Paying { get; set; }

        public Task? CountingDecline { get; set; }

        /// <summary>
        /// Set once the order is saved (from then on the order table is the truth), or once the purchase
        /// waits for its shopper to authenticate: nothing is let go.
        /// </summary>
        public bool Placed { get; set; }

    }

    /// <summary>A charge, and the gateway key its journal entry is filed under.</summary>
    private sealed record Paid(PaymentResult.Succeeded Charge, string GatewayKey);

    /// <summary>
    /// Holds the response until <paramref name="work"/> is done, without making it wait in line: the
    /// idempotency record (written while the response is buffered) goes to the store alongside it.
    /// </summary>
    private static void AfterResponse(HttpContext context, Task work)
    {
        if (context.Response.HasStarted)
        {
            // Nothing left to hold: the work still runs, and observes its own failures.
            return;
        }
        context.Response.OnStarting(() => work);
    }

    /// <summary>
    /// Closes the journal entry, freezes the cart and completes the session once the order is
    /// committed. The order table is the truth from here: if a store fails now, the shopper still
    /// gets the 201; the sweep finds the order by its intent, and the next read of the cart or the
    /// session settles them from the order table.
    /// </summary>
    private async Task AfterOrderAsync(Order order, Seen<Cart> claimedCart, StoredSession paying, string gatewayKey)
    {
        try
        {
            // Three stores, no order between them: together, so the shopper waits for the slowest, not the sum.
            await Task.WhenAll(
                journal.SettleAsync(gatewayKey, "ordered", order.CreatedAt, CancellationToken.None),
                carts.MarkCheckedOutAsync(order.CartId, order.OrderId, CancellationToken.None, claimedCart),
                sessions.CompleteAsync(paying.Session.SessionId, order.PaymentIntentId, CancellationToken.None, paying));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAfterOrderFailed(logger, order.OrderId, order.CartId, e.GetType().Name);
        }
    }

    /// <summary>
    /// Saves the paid order. A charge must never be left without its order: if saving fails, or the
    /// cart turns out to have another order paid by another intent, this charge is voided.
    /// </summary>
    private async Task<bool> SaveOrVoidAsync(Order order, string requestId)
    {
        try
        {
            if (await orders.TryAddAsync(order, CancellationToken.None))
            {
                return true;
            }
        }
        catch
        {
            await VoidAsync(order, requestId, "the order could not be saved");
            throw;
        }
        var existing = await orders.FindByCartAsync(order.CartId, CancellationToken.None);
        if (existing?.PaymentIntentId != order.PaymentIntentId)
        {
            await VoidAsync(order, requestId, "the cart already had an order");
        }
        return false;
    }

    private async Task VoidAsync(Order order, string requestId, string reason)
    {
        LogVoiding(logger, order.PaymentIntentId, order.CartId, reason);
        if (!await gateway.VoidAsync(order.PaymentIntentId, requestId, CancellationToken.None))
        {
            LogVoidFailed(logger, order.PaymentIntentId, order.CartId);
        }
    }

    /// <summary>One key per (cart, cart version, card): a retry of the same purchase is the same charge at the gateway.</summary>
    public static string GatewayKey(string cartId, long cartVersion, string paymentMethodId) =>
        "chk_" + Sha256.Hex($"{cartId}\n{cartVersion}\n{paymentMethodId}")[..32];

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment intent {IntentId} of cart {CartId} waits for its shopper to authenticate (3-D Secure)")]
    private static partial void LogAuthenticationRequired(ILogger logger, string intentId, string cartId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Placed order {OrderId} for cart {CartId}, shopper {Email}, total {Total}")]
    private static partial void LogOrderPlaced(ILogger logger, string orderId, string cartId, [Email] string email, decimal total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId} is placed but cart {CartId} or its session was not updated ({Failure}); the next checkout of the cart repairs it")]
    private static partial void LogAfterOrderFailed(ILogger logger, string orderId, string cartId, string failure);

    [LoggerMessage(Level = LogLevel.Error, Message = "Voiding payment intent {IntentId} of cart {CartId}: {Reason}")]
    private static partial void LogVoiding(ILogger logger, string intentId, string cartId, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Payment intent {IntentId} of cart {CartId} is charged without an order and could not be voided: refund it by hand")]
    private static partial void LogVoidFailed(ILogger logger, string intentId, string cartId);
}

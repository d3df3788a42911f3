using System.Diagnostics;
using CheckoutService.Carts;
using CheckoutService.Edge;
using CheckoutService.Observability;
using CheckoutService.Orders;
using CheckoutService.Payments;
using CheckoutService.RateLimits;
using CheckoutService.Sessions;
using CheckoutService.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
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
    public async Task<Results<Created<CheckoutResponse>, ValidationFailed, ApiError, CartChanged>> RunAsync(
        CheckoutRequest request, string? sessionToken, HttpContext context, CancellationToken cancellationToken, string? ifMatch = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var span = CheckoutTelemetry.Source.StartActivity(CheckoutTelemetry.CompleteSpan);
        span?.SetTag(CheckoutTelemetry.CartId, request.CartId);
        var started = time.GetTimestamp();
        using var inFlight = metrics.CheckoutsInFlight.TrackInProgress();
        try
        {
            var result = await PlaceAsync(request, sessionToken, ifMatch, context, cancellationToken);
            if (result.Result is ApiError { StatusCode: >= 402 and not 404 and not 409 and not 422 } failed)
            {
                span?.SetStatus(ActivityStatusCode.Error, failed.Code);
            }
            else if (result.Result is Created<CheckoutResponse>)
            {
                span?.SetStatus(ActivityStatusCode.Ok);
                metrics.CheckoutCompleted.WithLabels(CheckoutMetrics.GuestV2, metrics.Region).Inc();
                metrics.CheckoutCompletionDuration.WithLabels(CheckoutMetrics.GuestV2).Observe(time.GetElapsedTime(started).TotalSeconds);
            }
            if (result.Result is ApiError error)
            {
                metrics.CheckoutErrors.WithLabels(CheckoutMetrics.GuestV2, error.Code).Inc();
            }
            else if (result.Result is CartChanged)
            {
                metrics.CheckoutErrors.WithLabels(CheckoutMetrics.GuestV2, ErrorCodes.CartChanged).Inc();
            }
            return result;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            metrics.CheckoutErrors.WithLabels(CheckoutMetrics.GuestV2, ErrorCodes.InternalError).Inc();
            throw;
        }
    }

    private async Task<Results<Created<CheckoutResponse>, ValidationFailed, ApiError, CartChanged>> PlaceAsync(
        CheckoutRequest request, string? sessionToken, string? ifMatch, HttpContext context, CancellationToken cancellationToken)
    {
        var errors = ValidationFailed.ErrorsOf(Validator.Validate(request)).ToList();
        if (errors.Any(e => e.Field == "cart_id"))
        {
            return new ValidationFailed(errors);
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
                return ApiError.Of(Errors.SessionExpired);
            }
        }

        // Card testing is bounded before any claim, so a refused checkout reaches no gateway.
        var declines = readAhead?.CartId == cartId && readAhead.Declines is { } read
            ? read
            : await declineLimits.ReadAsync(cartId, session?.Session.SessionId, context, cancellationToken);
        if (declineLimits.Refusal(declines) is { } refused)
        {
            return ApiError.Of(refused);
        }

        var address = request.ShippingAddress ?? session?.Session.ShippingAddress;
        if (address is null)
        {
            errors.Add(new FieldError("shipping_address", FieldCodes.Required, "Shipping address is required",
                "Object with line1, city, state, zip, country required"));
        }
        if (errors.Count > 0)
        {
            return new ValidationFailed(errors);
        }
        // The card is asked for once the shopper's details are right, as the page's sections go.
        var paymentMethodId = string.IsNullOrEmpty(request.PaymentMethodId) ? session?.Session.PaymentMethodId : request.PaymentMethodId;
        if (paymentMethodId is null)
        {
            return ValidationFailed.One("payment_method_id", FieldCodes.Required, "Payment method is required",
                "A payment method id (pm_...) from the payment form");
        }
        var shipping = address!.Normalized();
        var reviewed = ReviewedCart.Of(request, ifMatch);

        var claim = new CheckoutClaim(Guid.NewGuid().ToString("N"), time.GetUtcNow() + ClaimLease);
        var seenCart = readAhead?.CartId == cartId ? readAhead.Cart : null;
        var seenOpen = (session is not null || reviewed is not null) && seenCart?.Entry?.Value is { } seen && seen.StatusAt(time.GetUtcNow()) == CartStatus.Open
            ? CartView.Of(seen, catalog, time.GetUtcNow())
            : null;
        // The shopper pays what they reviewed or nothing (docs/decisions/0013). The cart read ahead
        // answers at no cost, before anything is claimed; the claim checks again, atomically, for a
        // change that landed since that read.
        if (reviewed is not null && seenOpen is not null && !reviewed.Matches(seenOpen))
        {
            return new CartChanged(seenOpen);
        }
        // With the cart read ahead, the session starts paying for it in the same round trip as the
        // claim. The session takes no claim but this one's, so if the claim loses, the session is only
        // put back; if the claim found a newer cart than the one read, the session is told of it below.
        var guessed = session is not null ? seenOpen : null;
        var claiming = carts.ClaimForCheckoutAsync(cartId, claim.Id, claim.ExpiresAt, cancellationToken, seenCart,
            reviewed is null ? null : cart => reviewed.Matches(CartView.Of(cart, catalog, time.GetUtcNow())));
        var beginning = guessed is { Items.Count: > 0 }
            ? sessions.BeginPaymentAsync(session!, CartSnapshot.Of(guessed), shipping, paymentMethodId, claim, cancellationToken)
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
        var claimed = await claiming;
        var paying = beginning is null ? null : await beginning;

        var placed = false;
        Task? countingDecline = null;
        var claimHeld = claimed.Outcome == CartChangeOutcome.Applied;
        try
        {
            switch (claimed.Outcome)
            {
                case CartChangeOutcome.NotFound:
                    return ApiError.Of(Errors.CartNotFound(cartId));
                case CartChangeOutcome.VersionConflict:
                    return new CartChanged(CartView.Of(claimed.Cart!, catalog, time.GetUtcNow()));
                case CartChangeOutcome.CheckedOut:
                    return ApiError.Of(Errors.CartCheckedOut(cartId));
                case CartChangeOutcome.CheckingOut:
                    // Another checkout is paying, or one paid and then lost the store before it could say so.
                    return (await carts.SettleAsync(claimed.Cart!, cancellationToken)).Status == CartStatus.CheckedOut
                        ? ApiError.Of(Errors.CartCheckedOut(cartId))
                        : ApiError.Of(Errors.CheckoutInProgress(cartId));
            }
            // The claim may have taken over from a checkout that placed its order: never pay for a cart twice.
            if ((await carts.SettleAsync(claimed.Cart!, cancellationToken)).Status == CartStatus.CheckedOut)
            {
                return ApiError.Of(Errors.CartCheckedOut(cartId));
            }

            var cart = CartView.Of(claimed.Cart!, catalog, time.GetUtcNow());
            if (cart.Items.Count == 0)
            {
                return ApiError.Of(Errors.CartEmpty(cartId));
            }
            var snapshot = CartSnapshot.Of(cart);
            if (paying is null || paying.Session.Cart.CartVersion != cart.Version)
            {
                // Paying holds the session, so it cannot be edited or expire under the payment; a shopper
                // who came without one gets one that is paying already.
                paying = (session is null ? null : await sessions.BeginPaymentAsync(paying ?? session, snapshot, shipping, paymentMethodId, claim, cancellationToken))
                    ?? await sessions.StartPayingAsync(cartId, snapshot, request.Email!, shipping, paymentMethodId, claim, cancellationToken);
            }
            // Once paying starts it runs to an answer even if the shopper's connection drops (so a retry
            // finds a finished payment), but never past the deadline, which stays under the gateway's 60 s.
            using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(settings.Value.CheckoutDeadlineMs), time);
            // Written down before the intent exists, so a charge whose order never comes is found and voided.
            var gatewayKey = GatewayKey(cartId, cart.Version, paymentMethodId);
            await journal.StartAsync(new JournalEntry(gatewayKey, cartId, cart.Subtotal.Cents, time.GetUtcNow()), cancellationToken);
            PaymentResult payment;
            try
            {
                payment = await gateway.ChargeAsync(new PaymentRequest(
                    cart.Subtotal, cart.Currency, paymentMethodId, cartId, paying.Session.SessionId, gatewayKey, context.TraceIdentifier), deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                // The outcome is unknown; the shopper's retry uses the same gateway key, so it finds this payment.
                payment = new PaymentResult.Unavailable("checkout deadline passed");
            }
            if (payment is PaymentResult.Declined)
            {
                // Counted alongside the claim's release below, so the decline costs the shopper no extra wait.
                countingDecline = declineLimits.CountAsync(cartId, paying.Session.SessionId, context, CancellationToken.None);
                return ApiError.Of(Errors.PaymentDeclined);
            }
            if (payment is not PaymentResult.Succeeded paid)
            {
                return ApiError.Of(Errors.PaymentGatewayUnavailable);
            }

            var placedAt = time.GetUtcNow();
            var confirmationToken = Ids.ConfirmationToken();
            var order = new Order(
                Ids.Order(), cartId, paying.Session.SessionId, request.Email!, Sha256.Hex(confirmationToken), OrderStatus.Paid,
                cart.Subtotal, cart.Currency,
                [.. cart.Items.Select(i => new OrderLine(i.Sku, i.Name, i.UnitPrice, i.Quantity, i.LineTotal))],
                shipping, paymentMethodId, paid.IntentId, paid.ChargeId, DeliveryEstimate.For(placedAt), placedAt);
            if (!await SaveOrVoidAsync(order, context.TraceIdentifier))
            {
                return ApiError.Of(Errors.CartCheckedOut(cartId));
            }
            placed = true;
            LogOrderPlaced(logger, order.OrderId, cartId, order.Email, order.Total.Amount);
            AfterResponse(context, AfterOrderAsync(order, CartStore.AsWritten(claimed.Cart!), paying, gatewayKey));

            return TypedResults.Created(
                $"/api/v2/checkout/guest/orders/{order.OrderId}",
                new CheckoutResponse(order.OrderId, confirmationToken, order.EstimatedDelivery, order.Total, order.Currency,
                    CheckoutResponse.GuestV2, paying.Session.SessionId));
        }
        finally
        {
            if (!placed)
            {
                // No order: the shopper may try again at once, with this card or another. The session
                // first, so a checkout that wins the released claim finds it free.
                if (paying is not null)
                {
                    await sessions.ResumeAsync(paying, CancellationToken.None);
                }
                if (claimHeld)
                {
                    await carts.ReleaseClaimAsync(cartId, claim.Id, CancellationToken.None, CartStore.AsWritten(claimed.Cart!));
                }
                if (countingDecline is not null)
                {
                    await countingDecline;
                }
            }
        }
    }

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Placed order {OrderId} for cart {CartId}, shopper {Email}, total {Total}")]
    private static partial void LogOrderPlaced(ILogger logger, string orderId, string cartId, [Email] string email, decimal total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId} is placed but cart {CartId} or its session was not updated ({Failure}); the next checkout of the cart repairs it")]
    private static partial void LogAfterOrderFailed(ILogger logger, string orderId, string cartId, string failure);

    [LoggerMessage(Level = LogLevel.Error, Message = "Voiding payment intent {IntentId} of cart {CartId}: {Reason}")]
    private static partial void LogVoiding(ILogger logger, string intentId, string cartId, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Payment intent {IntentId} of cart {CartId} is charged without an order and could not be voided: refund it by hand")]
    private static partial void LogVoidFailed(ILogger logger, string intentId, string cartId);
}

using CheckoutService.Carts;
using CheckoutService.Edge;
using CheckoutService.Idempotency;
using CheckoutService.Orders;
using CheckoutService.RateLimits;
using CheckoutService.Sessions;
using CheckoutService.Storage;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace CheckoutService.Checkout;

public static class CheckoutApi
{
    public static IServiceCollection AddCheckout(this IServiceCollection services)
    {
        services.AddApiJson(CheckoutJson.Default);
        services.AddSingleton<PlaceOrder>();
        services.AddSingleton<AwaitingAuthentication>();
        services.AddSingleton<UnorderedCharges>();
        services.AddSingleton<UnorderedChargeSweep>();
        services.AddHostedService(sp => sp.GetRequiredService<UnorderedChargeSweep>());
        services.AddSingleton<AbandonedSessionSweep>();
        services.AddHostedService(sp => sp.GetRequiredService<AbandonedSessionSweep>());
        services.AddSingleton<ICartOrders, CartOrdersFromOrderTable>();
        return services;
    }

    public static IEndpointRouteBuilder MapCheckout(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v2/checkout/guest", Checkout)
            .WithSummary("Pay for a cart and place its order")
            .WithDescription(
                "Honours Idempotency-Key. 402 PAYMENT_DECLINED carries Stripe's decline_code. 402 AUTHENTICATION_REQUIRED " +
                "(3-D Secure) carries next_action {type: redirect_to_url, url} and the intent's client_secret: nothing is charged " +
                "and the cart stays held; after the shopper's challenge, send the same request with the same Idempotency-Key " +
                "to get 201 and the order (never a second charge), or 402 AUTHENTICATION_FAILED (the cart is open for another " +
                "card). A shopper who authenticates and never comes back still gets the order, placed from the payment journal " +
                "by the payment_intent.succeeded webhook or the sweep; the same request sent later is handed its confirmation once.")
            .WithMetadata(new IdempotentAttribute())
            .Produces<ErrorBody>(Errors.PaymentDeclined.Status)
            .Produces<ErrorBody>(Errors.PaymentGatewayUnavailable.Status)
            .PerClientPerMinute("checkout", app.ServiceProvider.GetRequiredService<IOptions<CheckoutSettings>>().Value.CheckoutRateLimitPerMinute)
            .WithMetadata(new ReadAhead(ReadAheadAsync))
            .RequireCors(EdgeProtections.CorsPolicy);
        return app;
    }

    public static async Task<Results<Created<CheckoutResponse>, ValidationFailed, ApiError, CartChanged>> Checkout(
        CheckoutRequest request, [FromHeader] string? authorization, [FromHeader(Name = "If-Match")] string? ifMatch, PlaceOrder placeOrder,
        HttpContext context, CancellationToken cancellationToken) =>
        await placeOrder.RunAsync(request, BearerToken.From(authorization), context, cancellationToken, ifMatch) switch
        {
            PlaceOrderOutcome.Placed { Order: var order } => TypedResults.Created($"/api/v2/checkout/guest/orders/{order.OrderId}", order),
            PlaceOrderOutcome.Invalid { Errors: var errors } => new ValidationFailed(errors),
            PlaceOrderOutcome.CartChanged { Cart: var cart } => new CartChanged(cart),
            PlaceOrderOutcome.Refused { Error: var error } => ApiError.Of(error),
            PlaceOrderOutcome.Declined declined => ApiError.Of(declined.Error) with { DeclineCode = declined.DeclineCode },
            PlaceOrderOutcome.AuthenticationRequired challenge => AuthenticationRequired(challenge, context),
            var other => throw new UnreachableException($"No answer for {other.GetType().Name}"),
        };

    /// <summary>
    /// 402 with the 3-D Secure step. Not the key's final answer: the same request with the same
    /// <c>Idempotency-Key</c>, sent after the challenge, completes the purchase (or fails it).
    /// </summary>
    private static ApiError AuthenticationRequired(PlaceOrderOutcome.AuthenticationRequired challenge, HttpContext context)
    {
        IdempotencyMiddleware.KeepKeyOpen(context);
        return ApiError.Of(Errors.AuthenticationRequired) with
        {
            NextAction = new NextActionBody("redirect_to_url", challenge.RedirectUrl),
            ClientSecret = challenge.ClientSecret,
        };
    }

    /// <summary>
    /// The session and the cart a checkout will change, read while the rate limit is counted (<see cref="ReadAhead"/>),
    /// so that its claims need no reads of their own. The body is parsed here only to find the cart;
    /// one that cannot be read this way is left to the endpoint, which judges it as always.
    /// </summary>
    private static async Task<CheckoutReads> ReadAheadAsync(HttpContext context)
    {
        var token = BearerToken.From(context.Request.Headers.Authorization);
        var session = token is null
            ? Task.FromResult<StoredSession?>(null)
            : context.RequestServices.GetRequiredService<GuestSessions>().OpenAsync(null, token, context.RequestAborted);
        var cartId = CartIdOf(context);
        var cart = cartId is null
            ? Task.FromResult<Seen<Cart>?>(null)
            : ReadCartAsync(context.RequestServices.GetRequiredService<CartStore>(), cartId, context.RequestAborted);
        // The declines so far go out with the cart's read: no round trip of their own.
        var declines = cartId is null
            ? Task.FromResult<DeclineCounts?>(null)
            : ReadDeclinesAsync(context.RequestServices.GetRequiredService<DeclineLimits>(), cartId, SessionTokens.SessionIdOf(token), context);
        await Task.WhenAll(session, cart, declines);
        return new CheckoutReads(await session, cartId, await cart, await declines);
    }

    private static async Task<DeclineCounts?> ReadDeclinesAsync(DeclineLimits limits, string cartId, string? sessionId, HttpContext context) =>
        await limits.ReadAsync(cartId, sessionId, context, context.RequestAborted);

    private static async Task<Seen<Cart>?> ReadCartAsync(CartStore carts, string cartId, CancellationToken cancellationToken) =>
        await carts.ReadAsync(cartId, cancellationToken);

    /// <summary>The cart the body names, read from the body's one buffer (<see cref="BufferedBody"/>); null when the body cannot say.</summary>
    internal static string? CartIdOf(HttpContext context)
    {
        try
        {
            return JsonSerializer.Deserialize(BufferedBody.Of(context).Span, CheckoutJson.Default.CheckoutRequest)?.CartId;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>What a checkout's read-ahead found: the session its token opens (if it sent one), the cart its body names, and their declines so far.</summary>
internal sealed record CheckoutReads(StoredSession? Session, string? CartId, Seen<Cart>? Cart, DeclineCounts? Declines = null);

/// <summary>Carts and sessions ask the order table how a checkout ended when it could not tell them.</summary>
internal sealed class CartOrdersFromOrderTable(IOrderStore orders) : ICartOrders
{
    public async Task<string?> OrderIdOfAsync(string cartId, CancellationToken cancellationToken) =>
        (await orders.FindByCartAsync(cartId, cancellationToken))?.OrderId;
}

using CheckoutService.Carts;
using CheckoutService.Edge;
using CheckoutService.Idempotency;
using CheckoutService.Orders;
using CheckoutService.RateLimits;
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
            .WithMetadata(new IdempotentAttribute())
            .Produces<ErrorBody>(StatusCodes.Status402PaymentRequired)
            .Produces<ErrorBody>(StatusCodes.Status502BadGateway)
            .PerClientPerMinute("checkout", app.ServiceProvider.GetRequiredService<IOptions<CheckoutSettings>>().Value.CheckoutRateLimitPerMinute)
            .RequireCors(EdgeProtections.CorsPolicy);
        return app;
    }

    public static Task<Results<Created<CheckoutResponse>, ValidationFailed, ApiError>> Checkout(
        CheckoutRequest request, [FromHeader] string? authorization, PlaceOrder placeOrder, HttpContext context, CancellationToken cancellationToken) =>
        placeOrder.RunAsync(request, BearerToken.From(authorization), context.TraceIdentifier, cancellationToken);
}

/// <summary>Carts and sessions ask the order table how a checkout ended when it could not tell them.</summary>
internal sealed class CartOrdersFromOrderTable(IOrderStore orders) : ICartOrders
{
    public async Task<string?> OrderIdOfAsync(string cartId, CancellationToken cancellationToken) =>
        (await orders.FindByCartAsync(cartId, cancellationToken))?.OrderId;
}

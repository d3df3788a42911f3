using CheckoutService.Edge;
using CheckoutService.Idempotency;
using CheckoutService.RateLimits;
using CheckoutService.Orders;
using CheckoutService.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CheckoutService.Checkout;

public static class CheckoutApi
{
    /// <summary>The log's Kong limit, now enforced by the service: a checkout body is small.</summary>
    public const long MaxBodyBytes = 8 * 1024;

    public static IServiceCollection AddCheckout(this IServiceCollection services)
    {
        services.AddSingleton<PlaceOrder>();
        return services;
    }

    public static IEndpointRouteBuilder MapCheckout(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v2/checkout/guest", Checkout)
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes), new IdempotentAttribute(), RateLimitsRegistration.Checkout(app.ServiceProvider))
            .RequireCors(EdgeProtections.CorsPolicy);
        return app;
    }

    public static Task<Results<Created<CheckoutResponse>, ValidationFailed, ApiError>> Checkout(
        CheckoutRequest request, [FromHeader] string? authorization, PlaceOrder placeOrder, HttpContext context, CancellationToken cancellationToken) =>
        placeOrder.RunAsync(request, SessionTokens.FromAuthorization(authorization), context.TraceIdentifier, cancellationToken);
}

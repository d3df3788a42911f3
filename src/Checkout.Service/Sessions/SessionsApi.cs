using CheckoutService.Carts;
using CheckoutService.Edge;
using CheckoutService.RateLimits;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace CheckoutService.Sessions;

public sealed record StartSessionRequest(string? CartId, string? Email);

/// <summary>The address itself, or wrapped as <c>{"shipping_address": {...}}</c> like the checkout body.</summary>
public sealed record SaveShippingAddressRequest(
    string? Line1, string? Line2, string? City, string? State, string? Zip, string? Country, ShippingAddress? ShippingAddress)
{
    public ShippingAddress Address => ShippingAddress ?? new ShippingAddress(Line1, Line2, City, State, Zip, Country);
}

public sealed record SavePaymentMethodRequest(string? PaymentMethodId);

/// <summary>Guest sessions: start one for a cart, read it, and save the checkout's sections one at a time.</summary>
public static class SessionsApi
{
    private static readonly ShippingAddressValidator AddressValidator = new();
    private static readonly StartSessionValidator StartValidator = new();
    private static readonly SavePaymentMethodValidator PaymentMethodValidator = new();

    public static IServiceCollection AddSessions(this IServiceCollection services)
    {
        services.AddApiJson(SessionsJson.Default);
        services.AddSingleton<SessionStore>();
        services.AddSingleton<GuestSessions>();
        services.AddHostedService<SessionGauge>();
        return services;
    }

    public static IEndpointRouteBuilder MapSessions(this IEndpointRouteBuilder app)
    {
        var settings = app.ServiceProvider.GetRequiredService<IOptions<CheckoutSettings>>().Value;
        var sessions = app.MapGroup("/api/v2/checkout/guest/session");
        sessions.MapPost("", StartSession).PerClientPerMinute("session-start", settings.SessionStartRateLimitPerMinute);
        sessions.MapGet("/{sessionId}", GetSession).PerClientPerMinute("session-read", settings.SessionReadRateLimitPerMinute)
            .WithMetadata(new ReadAhead(OpenFromRequest));
        var writes = sessions.MapGroup("/{sessionId}").PerPartitionPerMinute("session-write", settings.SessionWriteRateLimitPerMinute, WritesPartition)
            .WithMetadata(new ReadAhead(OpenFromRequest));
        writes.MapPut("/shipping-address", SaveShippingAddress);
        writes.MapPut("/payment-method", SavePaymentMethod);
        return app;
    }

    /// <summary>
    /// One session's writes count once however its id is spelled (letter case, <c>guest:sess:</c> or
    /// not), and only for a holder of a token that names it, each token apart: a request without the
    /// session's token is counted against its own address, and never spends the owner's quota.
    /// </summary>
    internal static string WritesPartition(HttpContext context)
    {
        var sessionId = SessionTokens.NormalizeSessionId(context.GetRouteValue("sessionId") as string);
        var token = BearerToken.From(context.Request.Headers.Authorization);
        return sessionId is not null && token is not null && SessionTokens.SessionIdOf(token) == sessionId
            ? $"{sessionId}:{Sha256.Hex(token)[..16]}"
            : "ip:" + SharedRateLimiter.ClientKey(context.Connection.RemoteIpAddress);
    }

    public static async Task<Results<Created<SessionCreated>, ValidationFailed, ApiError>> StartSession(
        StartSessionRequest request, CartStore carts, Catalog catalog, GuestSessions sessions, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var validation = StartValidator.Validate(request);
        if (!validation.IsValid)
        {
            return new ValidationFailed(ValidationFailed.ErrorsOf(validation));
        }
        // No orphan sessions: the cart must exist and still be for sale.
        var now = time.GetUtcNow();
        if (await carts.GetAsync(request.CartId!, cancellationToken) is not { } cart)
        {
            return ApiError.Of(Errors.CartNotFound(request.CartId!));
        }
        if (cart.StatusAt(now) == CartStatus.CheckedOut)
        {
            return ApiError.Of(Errors.CartCheckedOut(cart.CartId));
        }
        var (session, token) = await sessions.StartAsync(cart.CartId, CartSnapshot.Of(CartView.Of(cart, catalog, now)), request.Email!, cancellationToken);
        var ttl = (int)sessions.Ttl.TotalSeconds;
        return TypedResults.Created(
            $"/api/v2/checkout/guest/session/{session.SessionId}",
            new SessionCreated(session.SessionId, token, session.CreatedAt + sessions.Ttl, ttl));
    }

    public static async Task<Results<Ok<SessionView>, ApiError>> GetSession(
        HttpContext context, GuestSessions sessions, TimeProvider time, CancellationToken cancellationToken)
    {
        var stored = await ReadAhead.TakeOr(context, OpenFromRequest);
        return stored is null ? ApiError.Of(Errors.SessionExpired) : TypedResults.Ok(SessionView.Of(await sessions.SettleAsync(stored, cancellationToken), time.GetUtcNow()));
    }

    /// <summary>The session the request's id and bearer token open; started by the rate limiter alongside its count (<see cref="ReadAhead"/>).</summary>
    private static Task<StoredSession?> OpenFromRequest(HttpContext context) =>
        context.RequestServices.GetRequiredService<GuestSessions>().OpenAsync(
            SessionTokens.NormalizeSessionId(context.GetRouteValue("sessionId") as string), BearerToken.From(context.Request.Headers.Authorization), context.RequestAborted);

    public static async Task<Results<Ok<SessionView>, ValidationFailed, ApiError>> SaveShippingAddress(
        string sessionId, SaveShippingAddressRequest request, [FromHeader] string? authorization, GuestSessions sessions,
        TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        var address = request.Address;
        var validation = AddressValidator.Validate(address);
        if (!validation.IsValid)
        {
            return new ValidationFailed(ValidationFailed.ErrorsOf(validation, "shipping_address"));
        }
        return await SaveAsync(context, time,
            opened => sessions.SaveShippingAddressAsync(opened, address.Normalized(), cancellationToken));
    }

    public static async Task<Results<Ok<SessionView>, ValidationFailed, ApiError>> SavePaymentMethod(
        string sessionId, SavePaymentMethodRequest request, [FromHeader] string? authorization, GuestSessions sessions,
        TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        var validation = PaymentMethodValidator.Validate(request);
        if (!validation.IsValid)
        {
            return new ValidationFailed(ValidationFailed.ErrorsOf(validation));
        }
        return await SaveAsync(context, time,
            opened => sessions.SavePaymentMethodAsync(opened, request.PaymentMethodId!, cancellationToken));
    }

    /// <summary>
    /// Saves one section of the session the token opens; a session already paying or completed is not
    /// edited. The endpoints bind the route's id and the token so the API document names them; the
    /// session they open was read while the rate limit was counted (<see cref="ReadAhead"/>).
    /// </summary>
    private static async Task<Results<Ok<SessionView>, ValidationFailed, ApiError>> SaveAsync(
        HttpContext context, TimeProvider time, Func<StoredSession, Task<StoredSession?>> save)
    {
        if (await ReadAhead.TakeOr(context, OpenFromRequest) is not { } opened)
        {
            return ApiError.Of(Errors.SessionExpired);
        }
        // The status is checked inside the optimistic write, so a checkout that starts paying meanwhile wins.
        var changed = await save(opened);
        return changed?.Session.Status switch
        {
            null => ApiError.Of(Errors.SessionExpired),
            SessionStatus.Active => TypedResults.Ok(SessionView.Of(changed, time.GetUtcNow())),
            SessionStatus.PaymentPending => ApiError.Of(Errors.CheckoutInProgress(changed.Session.CartId)),
            _ => ApiError.Of(Errors.CartCheckedOut(changed.Session.CartId)),
        };
    }

    private sealed class StartSessionValidator : AbstractValidator<StartSessionRequest>
    {
        public StartSessionValidator()
        {
            RuleLevelCascadeMode = CascadeMode.Stop;
            RuleFor(r => r.CartId).CartId();
            RuleFor(r => r.Email).Email();
        }
    }

    private sealed class SavePaymentMethodValidator : AbstractValidator<SavePaymentMethodRequest>
    {
        public SavePaymentMethodValidator()
        {
            RuleLevelCascadeMode = CascadeMode.Stop;
            RuleFor(r => r.PaymentMethodId).Required("Payment method id").PaymentMethodId();
        }
    }
}

using CheckoutService.Edge;
using CheckoutService.RateLimits;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CheckoutService.Carts;

public sealed record CartItemRequest(string? Sku, int? Quantity);

public sealed record CreateCartRequest(IReadOnlyList<CartItemRequest?>? Items);

public sealed record SetQuantityRequest(int? Quantity);

/// <summary>The cart manager's public API: the catalogue and carts priced from it.</summary>
public static class CartsApi
{
    public static IServiceCollection AddCarts(this IServiceCollection services)
    {
        services.AddApiJson(CartsJson.Default);
        services.AddSingleton(_ => Catalog.LoadEmbedded());
        // Built once: building a validator's rules cost more than running them (3.5 % of a load test's CPU).
        services.AddSingleton<IValidator<CreateCartRequest>, CreateCartValidator>();
        services.AddSingleton<CartStore>();
        return services;
    }

    public static IEndpointRouteBuilder MapCarts(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v2");
        api.MapGet("/products", ListProducts);
        api.MapPost("/carts", CreateCart).PerClientPerMinute("cart-create",
            app.ServiceProvider.GetRequiredService<IOptions<CheckoutSettings>>().Value.CartCreateRateLimitPerMinute);
        api.MapGet("/carts/{cartId}", GetCart);
        api.MapPut("/carts/{cartId}/items/{sku}", SetQuantity);
        return app;
    }

    public static Ok<IReadOnlyList<Product>> ListProducts(Catalog catalog) => TypedResults.Ok(catalog.Products);

    public static async Task<Results<Created<CartView>, ValidationFailed>> CreateCart(
        CreateCartRequest request, IValidator<CreateCartRequest> validator, Catalog catalog, CartStore carts, TimeProvider time,
        HttpContext context, CancellationToken cancellationToken)
    {
        var result = validator.Validate(request);
        if (!result.IsValid)
        {
            return new ValidationFailed(ValidationFailed.ErrorsOf(result));
        }
        // The same sku twice in one request is one line with the quantities added up.
        var lines = request.Items!
            .GroupBy(i => i!.Sku!, StringComparer.Ordinal)
            .Select(g => new CartLine(g.Key, Math.Min(Cart.MaxQuantity, g.Sum(i => i!.Quantity!.Value))))
            .ToList();
        var cart = await carts.NewAsync(lines, cancellationToken);
        var view = CartView.Of(cart, catalog, time.GetUtcNow());
        context.Response.Headers.ETag = ETagOf(cart);
        return TypedResults.Created($"/api/v2/carts/{cart.CartId}", view);
    }

    public static async Task<Results<Ok<CartView>, ApiError>> GetCart(
        string cartId, Catalog catalog, CartStore carts, TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        if (await carts.GetAsync(cartId, cancellationToken) is not { } stored)
        {
            return ApiError.Of(Errors.CartNotFound(cartId));
        }
        var cart = await carts.SettleAsync(stored, cancellationToken);
        context.Response.Headers.ETag = ETagOf(cart);
        return TypedResults.Ok(CartView.Of(cart, catalog, time.GetUtcNow()));
    }

    /// <summary>
    /// Sets one line. Without If-Match it applies on top of whatever else changed
    /// (two tabs editing different lines both win); with a stale If-Match it is a 409.
    /// </summary>
    public static async Task<Results<Ok<CartView>, ValidationFailed, ApiError>> SetQuantity(
        string cartId, string sku, SetQuantityRequest request, Catalog catalog, CartStore carts, TimeProvider time,
        HttpContext context, CancellationToken cancellationToken)
    {
        if (!catalog.TryGet(sku, out _))
        {
            return ValidationFailed.One("sku", FieldCodes.UnknownSku, $"No product with sku {Truncate(sku)}", "A sku from GET /api/v2/products");
        }
        if (request.Quantity is not { } quantity || quantity is < 0 or > Cart.MaxQuantity)
        {
            return ValidationFailed.One("quantity", request.Quantity is null ? FieldCodes.Required : FieldCodes.OutOfRange,
                "Quantity must be a whole number from 0 to 99", "Integer 0-99; 0 removes the line");
        }
        long? ifVersion = null;
        // "If-Match: *" asks only that the cart exists, which the store checks anyway.
        if (context.Request.Headers.IfMatch is { Count: > 0 } ifMatch && ifMatch.ToString().Trim() != "*")
        {
            if (!CartETag.TryParse(context.Request.Headers.IfMatch.ToString(), out var version))
            {
                return ApiError.Of(Errors.CartVersionConflict.Saying("If-Match does not name a version of this cart"));
            }
            ifVersion = version;
        }
        var change = await carts.SetQuantityAsync(cartId, sku, quantity, ifVersion, cancellationToken);
        if (change.Outcome == CartChangeOutcome.ClaimLapsed && (await carts.SettleAsync(change.Cart!, cancellationToken)).Status != CartStatus.CheckedOut)
        {
            change = await carts.SetQuantityAsync(cartId, sku, quantity, ifVersion, cancellationToken);
        }
        switch (change.Outcome)
        {
            case CartChangeOutcome.Applied:
                context.Response.Headers.ETag = ETagOf(change.Cart!);
                return TypedResults.Ok(CartView.Of(change.Cart!, catalog, time.GetUtcNow()));
            case CartChangeOutcome.NotFound:
                return ApiError.Of(Errors.CartNotFound(cartId));
            case CartChangeOutcome.VersionConflict:
                context.Response.Headers.ETag = ETagOf(change.Cart!);
                return ApiError.Of(Errors.CartVersionConflict);
            case CartChangeOutcome.CheckingOut or CartChangeOutcome.ClaimLapsed:
                return ApiError.Of(Errors.CheckoutInProgress(cartId));
            default:
                return ApiError.Of(Errors.CartCheckedOut(cartId));
        }
    }

    private static string ETagOf(Cart cart) => CartETag.Of(cart.Version);

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";

    internal sealed class CreateCartValidator : AbstractValidator<CreateCartRequest>
    {
        public CreateCartValidator(Catalog catalog)
        {
            RuleLevelCascadeMode = CascadeMode.Stop;
            RuleFor(r => r.Items).NotNull().Fails(FieldCodes.Required, "Items are required", "Array of {sku, quantity}; may be empty")
                .Must(i => i!.Count <= Cart.MaxLines).Fails(FieldCodes.OutOfRange, "Too many items", $"At most {Cart.MaxLines} lines");
            // Every line is checked, not just up to the first bad one.
            RuleForEach(r => r.Items).Cascade(CascadeMode.Continue).NotNull().Fails(FieldCodes.Required, "Item is required", "Object with sku and quantity")
                .ChildRules(item =>
                {
                    item.RuleLevelCascadeMode = CascadeMode.Stop;
                    item.RuleFor(i => i!.Sku).Required("Sku")
                        .Must(sku => catalog.TryGet(sku!, out _)).Fails(FieldCodes.UnknownSku, "No such product", "A sku from GET /api/v2/products");
                    item.RuleFor(i => i!.Quantity).NotNull().Fails(FieldCodes.Required, "Quantity is required", "Integer 1-99")
                        .InclusiveBetween(1, Cart.MaxQuantity).Fails(FieldCodes.OutOfRange, "Quantity must be from 1 to 99", "Integer 1-99");
                }).When(r => r.Items is { Count: <= Cart.MaxLines });
        }
    }
}

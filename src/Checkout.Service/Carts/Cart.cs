using System.Text.Json;
using System.Text.Json.Serialization;
using CheckoutService.Edge;

namespace CheckoutService.Carts;

public enum CartStatus
{
    Open,
    /// <summary>Claimed by one checkout while it pays; frozen until the claim ends or lapses.</summary>
    CheckingOut,
    CheckedOut,
}

public sealed record CartLine(string Sku, int Quantity);

/// <summary>
/// A cart as stored: lines of sku and quantity only. Prices are read from the catalogue, never
/// kept from the client. <see cref="Version"/> grows with every change and is the ETag.
/// </summary>
public sealed record Cart(
    string CartId,
    long Version,
    IReadOnlyList<CartLine> Lines,
    CartStatus Status,
    DateTimeOffset ExpiresAt,
    string? CheckoutClaimId = null,
    DateTimeOffset? ClaimExpiresAt = null,
    string? OrderId = null)
{
    public const int MaxLines = 50;
    public const int MaxQuantity = 99;

    /// <summary>The status as seen at <paramref name="now"/>: a lapsed claim (a crashed checkout) reopens the cart.</summary>
    public CartStatus StatusAt(DateTimeOffset now) =>
        Status == CartStatus.CheckingOut && ClaimExpiresAt <= now ? CartStatus.Open : Status;

    /// <summary>Sets one line and leaves every other line as it is, so two tabs editing different lines both win.</summary>
    public Cart WithQuantity(string sku, int quantity, DateTimeOffset expiresAt)
    {
        var lines = new List<CartLine>(Lines.Count + 1);
        var found = false;
        foreach (var line in Lines)
        {
            if (line.Sku != sku)
            {
                lines.Add(line);
                continue;
            }
            found = true;
            if (quantity > 0)
            {
                lines.Add(line with { Quantity = quantity });
            }
        }
        if (!found && quantity > 0)
        {
            lines.Add(new CartLine(sku, quantity));
        }
        return this with { Lines = lines, Version = Version + 1, ExpiresAt = expiresAt };
    }
}

public sealed record CartItemView(string Sku, string Name, Money UnitPrice, int Quantity, Money LineTotal);

public sealed record CartView(string CartId, long Version, string Status, IReadOnlyList<CartItemView> Items, Money Subtotal, string Currency, DateTimeOffset ExpiresAt)
{
    public static CartView Of(Cart cart, Catalog catalog, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(cart);
        ArgumentNullException.ThrowIfNull(catalog);
        var items = new List<CartItemView>(cart.Lines.Count);
        var subtotal = Money.Zero;
        foreach (var line in cart.Lines)
        {
            if (!catalog.TryGet(line.Sku, out var product))
            {
                continue; // a product withdrawn from the catalogue since it was added cannot be sold
            }
            var lineTotal = product.UnitPrice * line.Quantity;
            subtotal += lineTotal;
            items.Add(new CartItemView(product.Sku, product.Name, product.UnitPrice, line.Quantity, lineTotal));
        }
        var status = cart.StatusAt(now) switch
        {
            CartStatus.Open => "open",
            CartStatus.CheckingOut => "checking_out",
            _ => "checked_out",
        };
        return new CartView(cart.CartId, cart.Version, status, items, subtotal, Catalog.Currency, cart.ExpiresAt);
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(Cart))]
[JsonSerializable(typeof(Product[]))]
[JsonSerializable(typeof(IReadOnlyList<Product>))]
[JsonSerializable(typeof(CreateCartRequest))]
[JsonSerializable(typeof(SetQuantityRequest))]
[JsonSerializable(typeof(CartView))]
internal sealed partial class CartsJson : JsonSerializerContext;

/// <summary>One checkout's hold on a cart, and on its session while it pays, until its lease runs out.</summary>
public sealed record CheckoutClaim(string Id, DateTimeOffset ExpiresAt);

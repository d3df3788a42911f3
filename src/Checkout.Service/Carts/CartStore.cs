using CheckoutService.Storage;
using Microsoft.Extensions.Options;

namespace CheckoutService.Carts;

public enum CartChangeOutcome
{
    Applied,
    NotFound,
    /// <summary>The client's If-Match named an older version.</summary>
    VersionConflict,
    CheckingOut,
    CheckedOut,
}

public readonly record struct CartChange(CartChangeOutcome Outcome, Cart? Cart = null);

/// <summary>
/// Where carts live, in process or on Redis. Every method is one atomic step on one cart, so
/// the same rules hold on one replica or six.
/// </summary>
public sealed class CartStore(IExpiringTables tables, TimeProvider time, IOptions<CheckoutSettings> settings)
{
    private readonly IExpiringTable<Cart> _carts = tables.Open("cart:", CartsJson.Default.Cart);
    private readonly TimeSpan _ttl = settings.Value.CartTtl;

    public Task CreateAsync(Cart cart, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cart);
        return _carts.ChangeAsync(cart.CartId, _ => Decision<bool, Cart>.Write(true, cart, cart.ExpiresAt), cancellationToken);
    }

    public async Task<Cart?> GetAsync(string cartId, CancellationToken cancellationToken) =>
        (await _carts.GetAsync(cartId, cancellationToken))?.Value;

    /// <summary>Sets one line (0 removes it). <paramref name="ifVersion"/> is the client's If-Match, if it sent one.</summary>
    public Task<CartChange> SetQuantityAsync(string cartId, string sku, int quantity, long? ifVersion, CancellationToken cancellationToken) =>
        _carts.ChangeAsync(cartId, entry =>
        {
            if (entry?.Value is not { } cart)
            {
                return Keep(CartChangeOutcome.NotFound);
            }
            var now = time.GetUtcNow();
            switch (cart.StatusAt(now))
            {
                case CartStatus.CheckedOut:
                    return Keep(CartChangeOutcome.CheckedOut, cart);
                case CartStatus.CheckingOut:
                    return Keep(CartChangeOutcome.CheckingOut, cart);
            }
            if (ifVersion is { } expected && expected != cart.Version)
            {
                return Keep(CartChangeOutcome.VersionConflict, cart);
            }
            var changed = cart.WithQuantity(sku, quantity, now + _ttl) with { Status = CartStatus.Open, CheckoutClaimId = null, ClaimExpiresAt = null };
            return Store(CartChangeOutcome.Applied, changed);
        }, cancellationToken);

    /// <summary>Freezes an open cart for one checkout until <paramref name="leaseUntil"/>; only one claim can win.</summary>
    public Task<CartChange> ClaimForCheckoutAsync(string cartId, string claimId, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        _carts.ChangeAsync(cartId, entry =>
        {
            if (entry?.Value is not { } cart)
            {
                return Keep(CartChangeOutcome.NotFound);
            }
            return cart.StatusAt(time.GetUtcNow()) switch
            {
                CartStatus.CheckedOut => Keep(CartChangeOutcome.CheckedOut, cart),
                CartStatus.CheckingOut => Keep(CartChangeOutcome.CheckingOut, cart),
                _ => Store(CartChangeOutcome.Applied, cart with
                {
                    Status = CartStatus.CheckingOut,
                    CheckoutClaimId = claimId,
                    ClaimExpiresAt = leaseUntil,
                    ExpiresAt = cart.ExpiresAt > leaseUntil ? cart.ExpiresAt : leaseUntil,
                }),
            };
        }, cancellationToken);

    /// <summary>Ends a claim without an order (declined, gateway down): the cart opens again.</summary>
    public Task ReleaseClaimAsync(string cartId, string claimId, CancellationToken cancellationToken) =>
        _carts.ChangeAsync(cartId, entry => entry?.Value is { Status: CartStatus.CheckingOut } cart && cart.CheckoutClaimId == claimId
            ? Store(CartChangeOutcome.Applied, cart with { Status = CartStatus.Open, CheckoutClaimId = null, ClaimExpiresAt = null })
            : Keep(CartChangeOutcome.Applied), cancellationToken);

    /// <summary>
    /// The cart has an order (the order table says so): it is frozen for good, whichever claim it
    /// held, so a claim left behind by a checkout that lost the store after paying is ended too.
    /// </summary>
    public Task MarkCheckedOutAsync(string cartId, string orderId, CancellationToken cancellationToken) =>
        _carts.ChangeAsync(cartId, entry => entry?.Value is { } cart && cart.Status != CartStatus.CheckedOut
            ? Store(CartChangeOutcome.Applied, cart with { Status = CartStatus.CheckedOut, OrderId = orderId, Version = cart.Version + 1 })
            : Keep(CartChangeOutcome.Applied), cancellationToken);

    private static Decision<CartChange, Cart> Keep(CartChangeOutcome outcome, Cart? cart = null) =>
        Decision<CartChange, Cart>.Keep(new CartChange(outcome, cart));

    private static Decision<CartChange, Cart> Store(CartChangeOutcome outcome, Cart cart) =>
        Decision<CartChange, Cart>.Write(new CartChange(outcome, cart), cart, cart.ExpiresAt);
}

using CheckoutService.Storage;
using Microsoft.Extensions.Options;

namespace CheckoutService.Carts;

public enum CartChangeOutcome
{
    Applied,
    NotFound,
    /// <summary>The client's If-Match named an older version, or a checkout found the cart changed since the shopper reviewed it.</summary>
    VersionConflict,
    CheckingOut,
    CheckedOut,
    /// <summary>A checkout claimed the cart and never said how it ended; the order table must settle it first.</summary>
    ClaimLapsed,
}

public readonly record struct CartChange(CartChangeOutcome Outcome, Cart? Cart = null);

/// <summary>What the order table says about a cart; Checkout answers, since Carts cannot see orders.</summary>
public interface ICartOrders
{
    Task<string?> OrderIdOfAsync(string cartId, CancellationToken cancellationToken);
}

/// <summary>
/// Where carts live, in process or on Redis. Every method is one atomic step on one cart, so
/// the same rules hold on one replica or six.
/// </summary>
public sealed class CartStore(IExpiringTables tables, TimeProvider time, IOptions<CheckoutSettings> settings, ICartOrders? orders = null)
{
    private readonly IExpiringTable<Cart> _carts = tables.Open("cart:", CartsJson.Default.Cart);
    private readonly TimeSpan _ttl = settings.Value.CartTtl;

    /// <summary>A new open cart with these lines, living <c>CART_TTL_SECONDS</c> from now.</summary>
    public async Task<Cart> NewAsync(IReadOnlyList<CartLine> lines, CancellationToken cancellationToken)
    {
        var cart = new Cart(Edge.Ids.Cart(), 1, lines, CartStatus.Open, time.GetUtcNow() + _ttl);
        await CreateAsync(cart, cancellationToken);
        return cart;
    }

    public Task CreateAsync(Cart cart, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cart);
        // A new cart id is absent, which spares the write a read.
        return _carts.ChangeAsync(cart.CartId, _ => Decision<bool, Cart>.Write(true, cart, cart.ExpiresAt), cancellationToken, Seen<Cart>.Absent);
    }

    public async Task<Cart?> GetAsync(string cartId, CancellationToken cancellationToken) =>
        (await _carts.GetAsync(cartId, cancellationToken))?.Value;

    /// <summary>The cart as a checkout will find it, to be handed back to <see cref="ClaimForCheckoutAsync"/> so the claim needs no read of its own.</summary>
    public async Task<Seen<Cart>> ReadAsync(string cartId, CancellationToken cancellationToken) =>
        new(await _carts.GetAsync(cartId, cancellationToken));

    /// <summary>A cart as this store wrote it (every cart lives until its own <see cref="Cart.ExpiresAt"/>), for the next change to start from.</summary>
    public static Seen<Cart> AsWritten(Cart cart)
    {
        ArgumentNullException.ThrowIfNull(cart);
        return new(new Entry<Cart>(cart, cart.ExpiresAt));
    }

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
            if (cart.Status == CartStatus.CheckingOut)
            {
                return Keep(CartChangeOutcome.ClaimLapsed, cart);
            }
            if (ifVersion is { } expected && expected != cart.Version)
            {
                return Keep(CartChangeOutcome.VersionConflict, cart);
            }
            var changed = cart.WithQuantity(sku, quantity, now + _ttl) with { Status = CartStatus.Open, CheckoutClaimId = null, ClaimExpiresAt = null };
            return Store(CartChangeOutcome.Applied, changed);
        }, cancellationToken);

    /// <summary>
    /// The order table is the truth: a cart still claimed by a checkout (live, crashed, or one that
    /// paid and then lost the store) is frozen if it has an order, so it is never sold twice and
    /// reads show it as it is. A claim that is neither live nor ordered is ended.
    /// </summary>
    public async Task<Cart> SettleAsync(Cart cart, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cart);
        if (cart.Status != CartStatus.CheckingOut)
        {
            return cart;
        }
        if (orders is not null && await orders.OrderIdOfAsync(cart.CartId, cancellationToken) is { } orderId)
        {
            await MarkCheckedOutAsync(cart.CartId, orderId, cancellationToken);
            return cart with { Status = CartStatus.CheckedOut, OrderId = orderId, Version = cart.Version + 1 };
        }
        if (cart.StatusAt(time.GetUtcNow()) == CartStatus.Open)
        {
            await ReleaseClaimAsync(cart.CartId, cart.CheckoutClaimId!, cancellationToken);
        }
        return cart;
    }

    /// <summary>
    /// Freezes an open cart for one checkout until <paramref name="leaseUntil"/>; only one claim can win.
    /// With <paramref name="asReviewed"/>, an open cart that is no longer what the shopper reviewed is
    /// left as it is (<see cref="CartChangeOutcome.VersionConflict"/>), in the same atomic step.
    /// </summary>
    public Task<CartChange> ClaimForCheckoutAsync(
        string cartId, string claimId, DateTimeOffset leaseUntil, CancellationToken cancellationToken, Seen<Cart>? seen = null,
        Func<Cart, bool>? asReviewed = null) =>
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
                _ when asReviewed is not null && !asReviewed(cart) => Keep(CartChangeOutcome.VersionConflict, cart),
                _ => Store(CartChangeOutcome.Applied, cart with
                {
                    Status = CartStatus.CheckingOut,
                    CheckoutClaimId = claimId,
                    ClaimExpiresAt = leaseUntil,
                    ExpiresAt = cart.ExpiresAt > leaseUntil ? cart.ExpiresAt : leaseUntil,
                }),
            };
        }, cancellationToken, seen);

    /// <summary>
    /// Keeps the cart frozen for its claim until <paramref name="leaseUntil"/>: while the shopper
    /// authenticates a payment, the cart must stay what the bank is asked to approve.
    /// </summary>
    public Task ExtendClaimAsync(string cartId, string claimId, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        _carts.ChangeAsync(cartId, entry => entry?.Value is { Status: CartStatus.CheckingOut } cart && cart.CheckoutClaimId == claimId
            ? Store(CartChangeOutcome.Applied, cart with { ClaimExpiresAt = leaseUntil, ExpiresAt = cart.ExpiresAt > leaseUntil ? cart.ExpiresAt : leaseUntil })
            : Keep(CartChangeOutcome.Applied), cancellationToken);

    /// <summary>Ends a claim without an order (declined, gateway down): the cart opens again.</summary>
    public Task ReleaseClaimAsync(string cartId, string claimId, CancellationToken cancellationToken, Seen<Cart>? seen = null) =>
        _carts.ChangeAsync(cartId, entry => entry?.Value is { Status: CartStatus.CheckingOut } cart && cart.CheckoutClaimId == claimId
            ? Store(CartChangeOutcome.Applied, cart with { Status = CartStatus.Open, CheckoutClaimId = null, ClaimExpiresAt = null })
            : Keep(CartChangeOutcome.Applied), cancellationToken, seen);

    /// <summary>
    /// The cart has an order (the order table says so): it is frozen for good, whichever claim it
    /// held, so a claim left behind by a checkout that lost the store after paying is ended too.
    /// </summary>
    public Task MarkCheckedOutAsync(string cartId, string orderId, CancellationToken cancellationToken, Seen<Cart>? seen = null) =>
        _carts.ChangeAsync(cartId, entry => entry?.Value is { } cart && cart.Status != CartStatus.CheckedOut
            ? Store(CartChangeOutcome.Applied, cart with { Status = CartStatus.CheckedOut, OrderId = orderId, Version = cart.Version + 1 })
            : Keep(CartChangeOutcome.Applied), cancellationToken, seen);

    private static Decision<CartChange, Cart> Keep(CartChangeOutcome outcome, Cart? cart = null) =>
        Decision<CartChange, Cart>.Keep(new CartChange(outcome, cart));

    private static Decision<CartChange, Cart> Store(CartChangeOutcome outcome, Cart cart) =>
        Decision<CartChange, Cart>.Write(new CartChange(outcome, cart), cart, cart.ExpiresAt);
}

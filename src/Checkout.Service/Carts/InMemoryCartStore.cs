using CheckoutService.Storage;
using Microsoft.Extensions.Options;

namespace CheckoutService.Carts;

internal sealed class InMemoryCartStore(TimeProvider time, IOptions<CheckoutSettings> settings) : ICartStore, IExpiringStore
{
    private readonly InMemoryTable<Cart> _carts = new(time);
    private readonly TimeSpan _ttl = settings.Value.CartTtl;

    public Task CreateAsync(Cart cart, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cart);
        _carts.Change(cart.CartId, _ => new InMemoryTable<Cart>.Decision<bool>(true, cart, cart.ExpiresAt));
        return Task.CompletedTask;
    }

    public Task<Cart?> GetAsync(string cartId, CancellationToken cancellationToken) =>
        Task.FromResult(_carts.Get(cartId)?.Value);

    public Task<CartChange> SetQuantityAsync(string cartId, string sku, int quantity, long? ifVersion, CancellationToken cancellationToken) =>
        Task.FromResult(_carts.Change(cartId, entry =>
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
        }));

    public Task<CartChange> ClaimForCheckoutAsync(string cartId, string claimId, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        Task.FromResult(_carts.Change(cartId, entry =>
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
        }));

    public Task ReleaseClaimAsync(string cartId, string claimId, CancellationToken cancellationToken)
    {
        _carts.Change(cartId, entry => entry?.Value is { } cart && cart.CheckoutClaimId == claimId && cart.Status == CartStatus.CheckingOut
            ? Store(CartChangeOutcome.Applied, cart with { Status = CartStatus.Open, CheckoutClaimId = null, ClaimExpiresAt = null })
            : Keep(CartChangeOutcome.Applied));
        return Task.CompletedTask;
    }

    public Task MarkCheckedOutAsync(string cartId, string claimId, string orderId, CancellationToken cancellationToken)
    {
        _carts.Change(cartId, entry => entry?.Value is { } cart && cart.CheckoutClaimId == claimId
            ? Store(CartChangeOutcome.Applied, cart with { Status = CartStatus.CheckedOut, OrderId = orderId, Version = cart.Version + 1 })
            : Keep(CartChangeOutcome.Applied));
        return Task.CompletedTask;
    }

    private static InMemoryTable<Cart>.Decision<CartChange> Keep(CartChangeOutcome outcome, Cart? cart = null) =>
        new(new CartChange(outcome, cart));

    private static InMemoryTable<Cart>.Decision<CartChange> Store(CartChangeOutcome outcome, Cart cart) =>
        new(new CartChange(outcome, cart), cart, cart.ExpiresAt);

    /// <summary>Called by the sweeper so expired carts do not pile up in memory.</summary>
    public void RemoveExpired() => _carts.RemoveExpired();
}

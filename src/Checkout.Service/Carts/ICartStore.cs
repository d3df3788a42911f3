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
/// Where carts live. Every method is one atomic step on one cart, so the same contract holds
/// in process and on a shared store across replicas.
/// </summary>
public interface ICartStore
{
    Task CreateAsync(Cart cart, CancellationToken cancellationToken);

    Task<Cart?> GetAsync(string cartId, CancellationToken cancellationToken);

    /// <summary>Sets one line (0 removes it). <paramref name="ifVersion"/> is the client's If-Match, if it sent one.</summary>
    Task<CartChange> SetQuantityAsync(string cartId, string sku, int quantity, long? ifVersion, CancellationToken cancellationToken);

    /// <summary>Freezes an open cart for one checkout until <paramref name="leaseUntil"/>; only one claim can win.</summary>
    Task<CartChange> ClaimForCheckoutAsync(string cartId, string claimId, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>Ends a claim without an order (declined, gateway down): the cart opens again.</summary>
    Task ReleaseClaimAsync(string cartId, string claimId, CancellationToken cancellationToken);

    /// <summary>Ends a claim with an order: the cart stays frozen for good.</summary>
    Task MarkCheckedOutAsync(string cartId, string claimId, string orderId, CancellationToken cancellationToken);
}

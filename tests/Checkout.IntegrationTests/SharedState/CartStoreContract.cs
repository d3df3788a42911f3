using CheckoutService.Carts;
using CheckoutService.Edge;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests.SharedState;

/// <summary>The cart rules on each kind of shared state.</summary>
public abstract class CartStoreContract(Func<TimeProvider, IExpiringTables> backend)
{
    private static readonly string[] Skus =
    [
        "SKU-TEE-BLK-M", "SKU-TEE-WHT-L", "SKU-HOODIE-GRY-M", "SKU-JEANS-IND-32", "SKU-SOCKS-3PK",
        "SKU-CAP-NVY", "SKU-MUG-12OZ", "SKU-BOTTLE-750", "SKU-TOTE-CNV", "SKU-NOTEBOOK-A5",
    ];

    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());
    private CartStore? _store;

    private readonly OrderTable _orders = new();

    private CartStore Store => _store ??= new CartStore(backend(_clock), _clock, Options.Create(new CheckoutSettings()), _orders);

    /// <summary>The orders table as Carts sees it: which carts have an order.</summary>
    private sealed class OrderTable : ICartOrders
    {
        public Dictionary<string, string> OrderByCart { get; } = [];

        public Task<string?> OrderIdOfAsync(string cartId, CancellationToken cancellationToken) =>
            Task.FromResult(OrderByCart.GetValueOrDefault(cartId));
    }

    private async Task<Cart> NewCartAsync(params CartLine[] lines)
    {
        var cart = new Cart(Ids.Cart(), 1, lines, CartStatus.Open, _clock.GetUtcNow().AddDays(1));
        await Store.CreateAsync(cart, CancellationToken.None);
        return cart;
    }

    [Fact]
    public async Task SetQuantity_TenWritersOnDifferentLines_AllApply()
    {
        var cart = await NewCartAsync();
        var changes = await Task.WhenAll(Skus.Select((sku, i) => Task.Run(() => Store.SetQuantityAsync(cart.CartId, sku, i + 1, null, CancellationToken.None))));
        Assert.All(changes, c => Assert.Equal(CartChangeOutcome.Applied, c.Outcome));
        var stored = await Store.GetAsync(cart.CartId, CancellationToken.None);
        Assert.Equal(11, stored!.Version);
        Assert.Equal(Skus.Select((sku, i) => new CartLine(sku, i + 1)).OrderBy(l => l.Sku), stored.Lines.OrderBy(l => l.Sku));
    }

    [Fact]
    public async Task SetQuantity_StaleVersion_IsAConflictAndChangesNothing()
    {
        var cart = await NewCartAsync(new CartLine("SKU-MUG-12OZ", 1));
        await Store.SetQuantityAsync(cart.CartId, "SKU-MUG-12OZ", 2, 1, CancellationToken.None);

        var stale = await Store.SetQuantityAsync(cart.CartId, "SKU-MUG-12OZ", 5, 1, CancellationToken.None);

        Assert.Equal(CartChangeOutcome.VersionConflict, stale.Outcome);
        Assert.Equal(2, (await Store.GetAsync(cart.CartId, CancellationToken.None))!.Lines[0].Quantity);
    }

    [Fact]
    public async Task Claim_TenAtOnce_OnlyOneWins_AndTheCartIsFrozen()
    {
        var cart = await NewCartAsync(new CartLine("SKU-MUG-12OZ", 1));
        var claims = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() =>
            Store.ClaimForCheckoutAsync(cart.CartId, $"claim{i}", _clock.GetUtcNow().AddSeconds(90), CancellationToken.None))));

        Assert.Single(claims, c => c.Outcome == CartChangeOutcome.Applied);
        Assert.Equal(CartChangeOutcome.CheckingOut, (await Store.SetQuantityAsync(cart.CartId, "SKU-CAP-NVY", 1, null, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Claim_Released_OpensTheCart_AndCheckedOut_FreezesItForGood()
    {
        var cart = await NewCartAsync(new CartLine("SKU-MUG-12OZ", 1));
        await Store.ClaimForCheckoutAsync(cart.CartId, "first", _clock.GetUtcNow().AddSeconds(90), CancellationToken.None);
        await Store.ReleaseClaimAsync(cart.CartId, "first", CancellationToken.None);
        Assert.Equal(CartChangeOutcome.Applied, (await Store.ClaimForCheckoutAsync(cart.CartId, "second", _clock.GetUtcNow().AddSeconds(90), CancellationToken.None)).Outcome);

        await Store.MarkCheckedOutAsync(cart.CartId, "ord_1", CancellationToken.None);

        Assert.Equal(CartChangeOutcome.CheckedOut, (await Store.SetQuantityAsync(cart.CartId, "SKU-CAP-NVY", 1, null, CancellationToken.None)).Outcome);
        Assert.Equal(CartChangeOutcome.CheckedOut, (await Store.ClaimForCheckoutAsync(cart.CartId, "third", _clock.GetUtcNow().AddSeconds(90), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Claim_Lapsed_ReopensTheCart()
    {
        var cart = await NewCartAsync(new CartLine("SKU-MUG-12OZ", 1));
        await Store.ClaimForCheckoutAsync(cart.CartId, "crashed", _clock.GetUtcNow().AddSeconds(90), CancellationToken.None);

        _clock.Advance(TimeSpan.FromSeconds(91));

        Assert.Equal(CartChangeOutcome.Applied, (await Store.ClaimForCheckoutAsync(cart.CartId, "next", _clock.GetUtcNow().AddSeconds(90), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Claim_LapsedWithoutAnOrder_IsEndedBySettling_AndTheCartCanBeEdited()
    {
        var cart = await NewCartAsync(new CartLine("SKU-MUG-12OZ", 1));
        await Store.ClaimForCheckoutAsync(cart.CartId, "crashed", _clock.GetUtcNow().AddSeconds(90), CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(91));

        var edit = await Store.SetQuantityAsync(cart.CartId, "SKU-MUG-12OZ", 2, null, CancellationToken.None);
        var settled = await Store.SettleAsync(edit.Cart!, CancellationToken.None);

        Assert.Equal(CartChangeOutcome.ClaimLapsed, edit.Outcome);
        Assert.NotEqual(CartStatus.CheckedOut, settled.Status);
        Assert.Equal(CartChangeOutcome.Applied, (await Store.SetQuantityAsync(cart.CartId, "SKU-MUG-12OZ", 2, null, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Claim_OfACheckoutThatPlacedItsOrder_IsSettledAsCheckedOut()
    {
        var cart = await NewCartAsync(new CartLine("SKU-MUG-12OZ", 1));
        var claim = await Store.ClaimForCheckoutAsync(cart.CartId, "paid-then-lost-the-store", _clock.GetUtcNow().AddSeconds(90), CancellationToken.None);
        _orders.OrderByCart[cart.CartId] = "ord_placed000001";

        var settled = await Store.SettleAsync(claim.Cart!, CancellationToken.None);

        Assert.Equal(CartStatus.CheckedOut, settled.Status);
        Assert.Equal("ord_placed000001", (await Store.GetAsync(cart.CartId, CancellationToken.None))!.OrderId);
        Assert.Equal(CartChangeOutcome.CheckedOut, (await Store.ClaimForCheckoutAsync(cart.CartId, "next", _clock.GetUtcNow().AddSeconds(90), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Cart_UnchangedForItsTtl_IsGone()
    {
        var cart = await NewCartAsync(new CartLine("SKU-MUG-12OZ", 1));
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Null(await Store.GetAsync(cart.CartId, CancellationToken.None));
        Assert.Equal(CartChangeOutcome.NotFound, (await Store.SetQuantityAsync(cart.CartId, "SKU-MUG-12OZ", 1, null, CancellationToken.None)).Outcome);
    }
}

public sealed class InMemoryCartStoreTests() : CartStoreContract(StateBackends.InMemory);

public sealed class RedisCartStoreTests(RedisServers redis) : CartStoreContract(StateBackends.Redis(redis.Standalone.Url));

public sealed class RedisClusterCartStoreTests(RedisServers redis) : CartStoreContract(StateBackends.Redis(redis.ClusterUrl));

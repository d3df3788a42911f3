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

    private CartStore Store => _store ??= new CartStore(backend(_clock), _clock, Options.Create(new CheckoutSettings()));

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

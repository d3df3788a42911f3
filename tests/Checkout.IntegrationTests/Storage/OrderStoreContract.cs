using CheckoutService.Edge;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Orders;
using CheckoutService.Storage;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests.Storage;

/// <summary>What every order store must do; run against SQLite and against a real PostgreSQL.</summary>
public abstract class OrderStoreContract : IAsyncLifetime
{
    private Database? _database;

    protected abstract Task<string> DatabaseUrlAsync();

    protected IOrderStore Store => new SqlOrderStore(_database!, new Outbox(_database!, []));

    public async ValueTask InitializeAsync()
    {
        _database = Database.FromUrl(await DatabaseUrlAsync());
        await Migrations.ApplyAsync(_database, new FakeTimeProvider(CheckoutApp.TraceMorning), CancellationToken.None);
    }

    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        await _database!.DisposeAsync();
    }

    private static Order NewOrder(string cartId) => new(
        Ids.Order(), cartId, "guest:sess:" + Guid.NewGuid(), "user4827@example.com", Sha256.Hex(Ids.ConfirmationToken()), OrderStatus.Paid,
        Money.FromDecimal(129.50m), "USD",
        [new OrderLine("SKU-BACKPACK-20L", "Commuter Backpack, 20 L", Money.FromDecimal(129.50m), 1, Money.FromDecimal(129.50m))],
        new ShippingAddress("742 Evergreen Terrace", "", "Springfield", "IL", "62704", "US"),
        "pm_stripe_4f9c2a1b", "pi_sim_" + Guid.NewGuid().ToString("N"), "ch_sim_1",
        new DateTimeOffset(2025, 9, 16, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2025, 9, 10, 8, 14, 22, 341, TimeSpan.Zero));

    [Fact]
    public async Task TryAdd_ThenGet_RoundTripsEveryField()
    {
        var order = NewOrder(Ids.Cart());

        Assert.True(await Store.TryAddAsync(order, CancellationToken.None));
        var stored = await Store.GetAsync(order.OrderId, CancellationToken.None);

        Assert.NotNull(stored);
        Assert.Equal(order with { Lines = [], }, stored with { Lines = [] });
        Assert.Equal(order.Lines, stored.Lines);
        Assert.Equal(order.CreatedAt, stored.CreatedAt);
    }

    [Fact]
    public async Task TryAdd_ASecondOrderForTheSameCart_IsRefusedByTheDatabase()
    {
        var cartId = Ids.Cart();
        var first = NewOrder(cartId);
        Assert.True(await Store.TryAddAsync(first, CancellationToken.None));

        Assert.False(await Store.TryAddAsync(NewOrder(cartId), CancellationToken.None));
        Assert.Equal(first.OrderId, (await Store.FindByCartAsync(cartId, CancellationToken.None))!.OrderId);
    }

    [Fact]
    public async Task TryAdd_TenAtOnceForOneCart_StoresExactlyOne()
    {
        var cartId = Ids.Cart();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Store.TryAddAsync(NewOrder(cartId), CancellationToken.None)));
        Assert.Single(results, added => added);
    }

    [Fact]
    public async Task ChangeStatus_UpdatesTheOrder_AppendsToItsHistory_AndHappensOncePerChangeId()
    {
        var order = NewOrder(Ids.Cart());
        await Store.TryAddAsync(order, CancellationToken.None);
        var refundedAt = order.CreatedAt.AddDays(2);
        var refund = new OrderStatusChange("evt_refund_1", order.OrderId, OrderStatus.Refunded, "charge.refunded", refundedAt);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Store.ChangeStatusAsync(refund, CancellationToken.None)));
        var unknown = await Store.ChangeStatusAsync(refund with { ChangeId = "evt_x", OrderId = "ord_unknown00000" }, CancellationToken.None);

        Assert.Single(results, r => r == StatusChangeResult.Applied);
        Assert.All(results.Where(r => r != StatusChangeResult.Applied), r => Assert.Equal(StatusChangeResult.AlreadyApplied, r));
        Assert.Equal(StatusChangeResult.NoSuchOrder, unknown);
        Assert.Equal(OrderStatus.Refunded, (await Store.GetAsync(order.OrderId, CancellationToken.None))!.Status);
        Assert.Equal(order.OrderId, (await Store.FindByPaymentIntentAsync(order.PaymentIntentId, CancellationToken.None))!.OrderId);
        Assert.Equal(order.OrderId, (await Store.FindByConfirmationTokenHashAsync(order.ConfirmationTokenHash, CancellationToken.None))!.OrderId);
        var history = await Store.HistoryAsync(order.OrderId, CancellationToken.None);
        Assert.Equal([(OrderStatus.Paid, "placed"), (OrderStatus.Refunded, "charge.refunded")], history.Select(h => (h.Status, h.Reason)));
        Assert.Equal(refundedAt, history[1].ChangedAt);
    }

    [Fact]
    public async Task Get_Unknown_IsNull()
    {
        Assert.Null(await Store.GetAsync("ord_unknown00000", CancellationToken.None));
        Assert.Null(await Store.FindByCartAsync("cart_unknown0000", CancellationToken.None));
    }

    [Fact]
    public async Task Migrations_RunAgainFromSeveralReplicas_AreHarmless()
    {
        var database = Database.FromUrl(await DatabaseUrlAsync());
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Migrations.ApplyAsync(database, TimeProvider.System, CancellationToken.None)));
        Assert.True(await new SqlOrderStore(database, new Outbox(database, [])).TryAddAsync(NewOrder(Ids.Cart()), CancellationToken.None));
    }
}

public sealed class SqliteOrderStoreTests : OrderStoreContract
{
    private readonly string _directory = Directory.CreateTempSubdirectory("checkout-orders-").FullName;

    protected override Task<string> DatabaseUrlAsync() => Task.FromResult("sqlite:" + Path.Combine(_directory, "orders.db"));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

public sealed class PostgresOrderStoreTests(PostgresServer postgres) : OrderStoreContract
{
    private string? _url;

    protected override async Task<string> DatabaseUrlAsync() => _url ??= await postgres.CreateDatabaseAsync();
}

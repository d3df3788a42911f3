using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.Checkout;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using CheckoutService.Orders;
using CheckoutService.Storage;
using Microsoft.Extensions.DependencyInjection;
using PaymentGateway.Contracts;

namespace CheckoutService.IntegrationTests;

/// <summary>
/// 3-D Secure over real HTTP, on each database: the checkout answers 402 AUTHENTICATION_REQUIRED
/// with the step to take, the shopper answers their bank's challenge on the gateway's page, and
/// the same request sent again places the order, once. An order also comes without the shopper:
/// from the webhook, or from the sweep.
/// </summary>
public abstract class AuthenticationContract : DatabaseContract
{
    private const string ThreeDSecureCard = "pm_card_authenticationRequired";

    [Fact]
    public async Task ChallengeCompleted_TheSameRequestAgain_PlacesTheOrder_WithOneCharge()
    {
        using var shopper = App.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 2));
        var body = ShopperClient.CheckoutBody(cartId, ThreeDSecureCard);
        var key = Guid.NewGuid().ToString();

        var challenged = await CheckoutAsync(shopper, body, key);
        Assert.Equal(HttpStatusCode.PaymentRequired, challenged.Status);
        Assert.Equal("AUTHENTICATION_REQUIRED", challenged.Error);
        Assert.Equal("redirect_to_url", (string?)challenged.Body!["next_action"]!["type"]);
        Assert.StartsWith("pi_", (string?)challenged.Body["client_secret"], StringComparison.Ordinal);
        Assert.Null(challenged.Body["order_id"]);
        Assert.Equal("checking_out", (string?)(await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Body!["status"]);

        // Still open: the same request is told so again, and nothing is charged.
        var again = await CheckoutAsync(shopper, body, key);
        Assert.Equal("AUTHENTICATION_REQUIRED", again.Error);
        Assert.Equal(0, App.Gateway.Ledger(cartId).Charges);

        var back = await AnswerAsync(challenged, "complete");
        Assert.StartsWith($"{shopper.Http.BaseAddress!.GetLeftPart(UriPartial.Authority)}/checkout/guest?cart_id={cartId}&", back, StringComparison.Ordinal);
        Assert.Contains("redirect_status=succeeded", back, StringComparison.Ordinal);

        var placed = await CheckoutAsync(shopper, body, key);
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        var replayed = await CheckoutAsync(shopper, body, key);
        Assert.Equal("true", replayed.Header("Idempotent-Replayed"));
        Assert.Equal((string?)placed.Body!["order_id"], (string?)replayed.Body!["order_id"]);
        var otherTab = await CheckoutAsync(shopper, body, Guid.NewGuid().ToString());
        Assert.Equal("CART_CHECKED_OUT", otherTab.Error);

        Assert.Equal(1, App.Gateway.Ledger(cartId).Charges);
        var order = await LookUpAsync(shopper, placed);
        Assert.Equal("paid", (string?)order["status"]);
        Assert.Equal("checked_out", (string?)(await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Body!["status"]);
        var metrics = App.Services.GetRequiredService<CheckoutMetrics>();
        Assert.True(metrics.PaymentIntentErrors.WithLabels(CheckoutMetrics.GuestCheckoutType, CheckoutMetrics.AuthenticationRequired).Value >= 1);
        Assert.True(metrics.PaymentAuthentications.WithLabels("succeeded").Value >= 1);
    }

    [Fact]
    public async Task ChallengeFailed_IsAuthenticationFailed_AndAnotherCardPaysTheSameCart()
    {
        using var shopper = App.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var body = ShopperClient.CheckoutBody(cartId, ThreeDSecureCard);
        var key = Guid.NewGuid().ToString();
        var challenged = await CheckoutAsync(shopper, body, key);
        var back = await AnswerAsync(challenged, "fail");
        Assert.Contains("redirect_status=failed", back, StringComparison.Ordinal);

        var failed = await CheckoutAsync(shopper, body, key);
        Assert.Equal(HttpStatusCode.PaymentRequired, failed.Status);
        Assert.Equal("AUTHENTICATION_FAILED", failed.Error);
        Assert.Equal("open", (string?)(await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Body!["status"]);

        var placed = await CheckoutAsync(shopper, ShopperClient.CheckoutBody(cartId, "pm_card_visa"), Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        Assert.Equal(1, App.Gateway.Ledger(cartId).Charges);
        Assert.True(App.Services.GetRequiredService<CheckoutMetrics>().PaymentAuthentications.WithLabels("failed").Value >= 1);
    }

    [Fact]
    public async Task AnotherCardWhileTheChallengeIsOpen_CancelsIt_AndPaysWithTheNewCard()
    {
        using var shopper = App.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var challenged = await CheckoutAsync(shopper, ShopperClient.CheckoutBody(cartId, ThreeDSecureCard), Guid.NewGuid().ToString());
        Assert.Equal("AUTHENTICATION_REQUIRED", challenged.Error);

        var placed = await CheckoutAsync(shopper, ShopperClient.CheckoutBody(cartId, "pm_card_visa"), Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        var ledger = App.Gateway.Ledger(cartId);
        Assert.Equal(1, ledger.Charges);
        Assert.Equal(IntentStatus.Canceled, ledger.Intents.Single(i => i.PaymentMethodId == ThreeDSecureCard).Status);

        // The abandoned challenge is closed, and answering it anyway charges nothing.
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Conflict, (await browser.GetAsync(new Uri((string)challenged.Body!["next_action"]!["url"]!), TestContext.Current.CancellationToken)).StatusCode);
        using var late = await PostAnswerAsync(browser, challenged, "complete");
        Assert.Equal(1, App.Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task TabClosedAfterTheChallenge_TheSweepPlacesTheOrder_AndTheRetryIsHandedItsConfirmation()
    {
        using var shopper = App.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 3));
        var body = ShopperClient.CheckoutBody(cartId, ThreeDSecureCard);
        var key = Guid.NewGuid().ToString();
        var challenged = await CheckoutAsync(shopper, body, key);
        await AnswerAsync(challenged, "complete");

        // No webhook here (no secret): the sweep's next pass finds the charged intent.
        Assert.True(await App.Services.GetRequiredService<UnorderedChargeSweep>().SweepOnceAsync(CancellationToken.None));
        var order = await App.Services.GetRequiredService<IOrderStore>().FindByCartAsync(cartId, CancellationToken.None);
        Assert.NotNull(order);
        Assert.Equal(OrderStatus.Paid, order.Status);
        Assert.Equal(3, order.Lines.Single().Quantity);
        Assert.Single(await App.Services.GetRequiredService<Outbox>().ReadAsync(OrderCompletedEvent.Topic, cartId, CancellationToken.None));

        var placed = await CheckoutAsync(shopper, body, key);
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        Assert.Equal(order.OrderId, (string?)placed.Body!["order_id"]);
        Assert.Equal("paid", (string?)(await LookUpAsync(shopper, placed))["status"]);
        // The token is handed out once: another key is told the cart is ordered.
        Assert.Equal("CART_CHECKED_OUT", (await CheckoutAsync(shopper, body, Guid.NewGuid().ToString())).Error);
        Assert.Equal(1, App.Gateway.Ledger(cartId).Charges);
    }

    [Fact]
    public async Task TabClosedAfterTheChallenge_TheSignedWebhookPlacesTheOrder()
    {
        App.Settings["STRIPE_WEBHOOK_SECRET"] = WebhookContract.NewSecret;
        using var shopper = App.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var challenged = await CheckoutAsync(shopper, ShopperClient.CheckoutBody(cartId, ThreeDSecureCard), Guid.NewGuid().ToString());
        await AnswerAsync(challenged, "complete");

        var orders = App.Services.GetRequiredService<IOrderStore>();
        Order? order = null;
        Assert.True(await Eventually.TrueAsync(async () => (order = await orders.FindByCartAsync(cartId, CancellationToken.None)) is not null, TimeSpan.FromSeconds(20)));
        Assert.Equal(OrderStatus.Paid, order!.Status);
        Assert.Equal(1, App.Gateway.Ledger(cartId).Charges);
        Assert.Equal("checked_out", (string?)(await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Body!["status"]);
    }

    [Fact]
    public async Task ChallengeFailed_TheSignedWebhookOpensTheCart_WithoutTheShopper()
    {
        App.Settings["STRIPE_WEBHOOK_SECRET"] = WebhookContract.NewSecret;
        using var shopper = App.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var challenged = await CheckoutAsync(shopper, ShopperClient.CheckoutBody(cartId, ThreeDSecureCard), Guid.NewGuid().ToString());
        await AnswerAsync(challenged, "fail");

        Assert.True(await Eventually.TrueAsync(async () =>
            (string?)(await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Body!["status"] == "open", TimeSpan.FromSeconds(20)));
        // The event matched no order and never will: it is settled, not left waiting for one.
        var events = App.Services.GetRequiredService<CheckoutService.Webhooks.WebhookEventStore>();
        Assert.True(await Eventually.TrueAsync(async () =>
            (await events.DueAsync(TimeProvider.System.GetUtcNow().AddDays(1), 100, CancellationToken.None)).Count == 0, TimeSpan.FromSeconds(20)));
        Assert.Equal(0, App.Gateway.Ledger(cartId).Charges);
    }

    private static Task<Reply> CheckoutAsync(ShopperClient shopper, JsonObject body, string key) =>
        shopper.CheckoutAsync(body.DeepClone(), configure: request => request.Headers.Add("Idempotency-Key", key));

    private static async Task<JsonNode> LookUpAsync(ShopperClient shopper, Reply placed)
    {
        var lookup = await shopper.SendAsync(HttpMethod.Get, $"/api/v2/checkout/guest/orders/{(string?)placed.Body!["order_id"]}", null,
            (string?)placed.Body["confirmation_token"]);
        Assert.Equal(HttpStatusCode.OK, lookup.Status);
        return lookup.Body!;
    }

    /// <summary>The shopper at their bank's challenge, as a browser without script submits it; the page it sends them back to.</summary>
    private static async Task<string> AnswerAsync(Reply challenged, string outcome)
    {
        using var response = await AnswerResponseAsync(challenged, outcome);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    private static async Task<HttpResponseMessage> AnswerResponseAsync(Reply challenged, string outcome)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(new Uri((string)challenged.Body!["next_action"]!["url"]!))).StatusCode);
        return await PostAnswerAsync(browser, challenged, outcome);
    }

    private static Task<HttpResponseMessage> PostAnswerAsync(HttpClient browser, Reply challenged, string outcome)
    {
        var url = new Uri((string)challenged.Body!["next_action"]!["url"]!);
        var secret = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(url.Query)["client_secret"].ToString();
        return browser.PostAsync(new Uri(url.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_secret"] = secret,
            ["outcome"] = outcome,
        }));
    }
}

public sealed class SqliteAuthenticationTests : AuthenticationContract
{
    protected override Task<string> DatabaseUrlAsync() => NewSqliteDatabaseAsync();
}

public sealed class PostgresAuthenticationTests(PostgresServer postgres) : AuthenticationContract
{
    protected override Task<string> DatabaseUrlAsync() => postgres.CreateDatabaseAsync();
}

/// <summary>A challenge nobody answers: after its window the intent is canceled and the cart is the shopper's again.</summary>
public sealed class AuthenticationExpiryTests : IAsyncDisposable
{
    private readonly CheckoutAppWithClock _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task ChallengeNeverAnswered_IsCanceledAfterItsWindow_AndTheCartOpensAgain()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var challenged = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_card_authenticationRequired"));
        Assert.Equal("AUTHENTICATION_REQUIRED", challenged.Error);
        var sweep = _app.Services.GetRequiredService<UnorderedChargeSweep>();

        // Well past the checkout deadline, inside the challenge's window: the sweep leaves it alone.
        _app.Time.Advance(TimeSpan.FromMinutes(5));
        // A pass of our own (the host's periodic one, woken by the clock, may hold the lock for a moment).
        Assert.True(await Eventually.TrueAsync(() => sweep.SweepOnceAsync(TestContext.Current.CancellationToken), TimeSpan.FromSeconds(10)));
        Assert.Equal(IntentStatus.RequiresAction, _app.Gateway.Ledger(cartId).Intents.Single().Status);
        Assert.Equal("checking_out", (string?)(await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Body!["status"]);

        _app.Time.Advance(AwaitingAuthentication.Window - TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        Assert.True(await Eventually.TrueAsync(async () =>
            await sweep.SweepOnceAsync(TestContext.Current.CancellationToken)
            && _app.Gateway.Ledger(cartId).Intents.Single().Status == IntentStatus.Canceled, TimeSpan.FromSeconds(10)));
        Assert.Equal("open", (string?)(await shopper.SendAsync(HttpMethod.Get, $"/api/v2/carts/{cartId}", null)).Body!["status"]);
        Assert.Equal(1, _app.Services.GetRequiredService<CheckoutMetrics>().PaymentAuthentications.WithLabels("expired").Value);
        Assert.Equal(HttpStatusCode.Created, (await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_card_visa"))).Status);
    }
}

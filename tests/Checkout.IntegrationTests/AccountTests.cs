using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.Accounts;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CheckoutService.IntegrationTests;

/// <summary>Guest to registered over real HTTP, on each database.</summary>
public abstract class AccountContract : DatabaseContract
{
    private const string Password = "correct horse battery staple";

    private static string NewEmail() => $"buyer.{Guid.NewGuid():N}@example.com";

    private static async Task<(string OrderId, string Token)> PlaceAsync(ShopperClient shopper, string email)
    {
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, email: email));
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        return ((string)placed.Body!["order_id"]!, (string)placed.Body["confirmation_token"]!);
    }

    private static Task<Reply> ClaimAsync(ShopperClient shopper, string orderId, string? token, string password = Password) =>
        shopper.SendAsync(HttpMethod.Post, "/api/v2/accounts", new JsonObject { ["order_id"] = orderId, ["confirmation_token"] = token, ["password"] = password });

    private static Task<Reply> SignInAsync(ShopperClient shopper, string email, string password = Password) =>
        shopper.SendAsync(HttpMethod.Post, "/api/v2/accounts/sessions", new JsonObject { ["email"] = email, ["password"] = password });

    private static async Task<string[]> MyOrdersAsync(ShopperClient shopper, string email)
    {
        var token = (string)(await SignInAsync(shopper, email)).Body!["access_token"]!;
        var mine = await shopper.SendAsync(HttpMethod.Get, "/api/v2/accounts/me/orders", null, token);
        Assert.Equal(HttpStatusCode.OK, mine.Status);
        return [.. mine.Body!.AsArray().Select(o => (string)o!["order_id"]!)];
    }

    [Fact]
    public async Task AnOrderBecomesAnAccount_AndEarlierGuestOrdersJoinOnlyOnceTheEmailIsProven()
    {
        using var shopper = App.Shopper();
        var email = NewEmail();
        var (earlier, _) = await PlaceAsync(shopper, email);
        var (orderId, token) = await PlaceAsync(shopper, email.ToUpperInvariant());

        var created = await ClaimAsync(shopper, orderId, token);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        var accountId = (string)created.Body!["account_id"]!;
        Assert.Equal("B***@EXAMPLE.COM", (string?)created.Body["email"]);
        Assert.Equal([orderId], await MyOrdersAsync(shopper, email));

        var proof = Assert.Single(await App.Services.GetRequiredService<CheckoutService.Storage.Outbox>().ReadAsync(AccountStore.EmailVerificationTopic, accountId, CancellationToken.None));
        var code = (string)JsonNode.Parse(proof)!["code"]!;
        var wrong = await shopper.SendAsync(HttpMethod.Post, $"/api/v2/accounts/{accountId}/verify-email", new JsonObject { ["code"] = code == "000000" ? "000001" : "000000" });
        var right = await shopper.SendAsync(HttpMethod.Post, $"/api/v2/accounts/{accountId}/verify-email", new JsonObject { ["code"] = code });
        var again = await shopper.SendAsync(HttpMethod.Post, $"/api/v2/accounts/{accountId}/verify-email", new JsonObject { ["code"] = code });

        Assert.Equal("INVALID_CODE", wrong.Error);
        Assert.Equal(HttpStatusCode.OK, right.Status);
        Assert.Equal(1, (int)right.Body!["orders_joined"]!);
        Assert.Equal("INVALID_CODE", again.Error);
        Assert.Equal([earlier, orderId], await MyOrdersAsync(shopper, email));
    }

    [Fact]
    public async Task Claiming_WithAWrongOrMissingToken_Is404_AWeakPassword422_AndASecondAccount409()
    {
        using var shopper = App.Shopper();
        var email = NewEmail();
        var (orderId, token) = await PlaceAsync(shopper, email);
        var (secondOrder, secondToken) = await PlaceAsync(shopper, email);

        Assert.Equal("ORDER_NOT_FOUND", (await ClaimAsync(shopper, orderId, null)).Error);
        Assert.Equal("ORDER_NOT_FOUND", (await ClaimAsync(shopper, orderId, "cnf_wrongtoken00")).Error);
        Assert.Equal("ORDER_NOT_FOUND", (await ClaimAsync(shopper, orderId, secondToken)).Error);
        Assert.Equal([("password", "TOO_SHORT")], (await ClaimAsync(shopper, orderId, token, "short")).FieldErrors);
        Assert.Equal([("password", "TOO_LONG")], (await ClaimAsync(shopper, orderId, token, new string('x', 129))).FieldErrors);
        Assert.Equal(HttpStatusCode.Created, (await ClaimAsync(shopper, orderId, token)).Status);
        var twice = await ClaimAsync(shopper, secondOrder, secondToken);
        Assert.Equal(HttpStatusCode.Conflict, twice.Status);
        Assert.Equal("ACCOUNT_EXISTS", twice.Error);
    }

    [Fact]
    public async Task SignIn_EveryFailureIsOneGeneric401_AndTheOrdersNeedItsToken()
    {
        using var shopper = App.Shopper();
        var email = NewEmail();
        var (orderId, token) = await PlaceAsync(shopper, email);
        await ClaimAsync(shopper, orderId, token);

        var wrongPassword = await SignInAsync(shopper, email, "not the password at all");
        var unknownEmail = await SignInAsync(shopper, NewEmail());
        var noToken = await shopper.SendAsync(HttpMethod.Get, "/api/v2/accounts/me/orders", null);
        var wrongToken = await shopper.SendAsync(HttpMethod.Get, "/api/v2/accounts/me/orders", null, "acc_forged");

        Assert.All(new[] { wrongPassword, unknownEmail }, r =>
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.Status);
            Assert.Equal("INVALID_CREDENTIALS", r.Error);
            Assert.Equal((string?)wrongPassword.Body!["message"], (string?)r.Body!["message"]);
        });
        Assert.All(new[] { noToken, wrongToken }, r => Assert.Equal(HttpStatusCode.Unauthorized, r.Status));
        Assert.Equal([orderId], await MyOrdersAsync(shopper, email.ToUpperInvariant()));
    }

    [Fact]
    public async Task SignIn_IsLimitedPerAccount_WhateverTheAddress()
    {
        // A clock standing mid-minute, so the per-minute window cannot turn over between two attempts.
        await using var app = new CheckoutApp { Clock = new FakeTimeProvider(CheckoutApp.TraceMorning) };
        app.Settings["DATABASE_URL"] = DatabaseUrl;
        using var shopper = app.Shopper();
        var email = NewEmail();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < AccountsApi.SignInsPerAccountPerMinute + 1; i++)
        {
            statuses.Add((await shopper.SendAsync(HttpMethod.Post, "/api/v2/accounts/sessions",
                new JsonObject { ["email"] = email, ["password"] = "guess number " + i }, configure: r => r.Headers.Add("X-Forwarded-For", $"203.0.113.{i}"))).Status);
        }

        Assert.All(statuses.Take(AccountsApi.SignInsPerAccountPerMinute), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }
}

public sealed class SqliteAccountTests : AccountContract
{
    protected override Task<string> DatabaseUrlAsync() => NewSqliteDatabaseAsync();
}

public sealed class PostgresAccountTests(PostgresServer postgres) : AccountContract
{
    protected override Task<string> DatabaseUrlAsync() => postgres.CreateDatabaseAsync();
}

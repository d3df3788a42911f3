using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.Accounts;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

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

    private static async Task<string[]> MyOrdersAsync(ShopperClient shopper, string email) =>
        await OrdersOfAsync(shopper, (string)(await SignInAsync(shopper, email)).Body!["access_token"]!);

    private static async Task<string[]> OrdersOfAsync(ShopperClient shopper, string accessToken)
    {
        var mine = await shopper.SendAsync(HttpMethod.Get, "/api/v2/accounts/me/orders", null, accessToken);
        Assert.Equal(HttpStatusCode.OK, mine.Status);
        return [.. mine.Body!.AsArray().Select(o => (string)o!["order_id"]!)];
    }

    private static Task<Reply> VerifyWithAsync(ShopperClient shopper, string accountId, string code) =>
        shopper.SendAsync(HttpMethod.Post, $"/api/v2/accounts/{accountId}/verify-email", new JsonObject { ["code"] = code });

    private async Task VerifyAsync(ShopperClient shopper, string accountId) =>
        Assert.Equal(HttpStatusCode.OK, (await VerifyWithAsync(shopper, accountId, await EmailProofs.CodeAsync(App, accountId))).Status);

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

        var code = await EmailProofs.CodeAsync(App, accountId);
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
    public async Task Claiming_WithAWrongOrMissingToken_Is404_AWeakPassword422_AndAnOwnedEmail409()
    {
        using var shopper = App.Shopper();
        var email = NewEmail();
        var (orderId, token) = await PlaceAsync(shopper, email);
        var (secondOrder, secondToken) = await PlaceAsync(shopper, email);
        var (thirdOrder, thirdToken) = await PlaceAsync(shopper, email);

        Assert.Equal("ORDER_NOT_FOUND", (await ClaimAsync(shopper, orderId, null)).Error);
        Assert.Equal("ORDER_NOT_FOUND", (await ClaimAsync(shopper, orderId, "cnf_wrongtoken00")).Error);
        Assert.Equal("ORDER_NOT_FOUND", (await ClaimAsync(shopper, orderId, secondToken)).Error);
        Assert.Equal([("password", "TOO_SHORT")], (await ClaimAsync(shopper, orderId, token, "short")).FieldErrors);
        Assert.Equal([("password", "TOO_LONG")], (await ClaimAsync(shopper, orderId, token, new string('x', 129))).FieldErrors);
        var first = await ClaimAsync(shopper, orderId, token);
        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal("ACCOUNT_EXISTS", (await ClaimAsync(shopper, orderId, token)).Error); // an order has one account

        // Nobody owns the email yet: a second claim is another pending account, not a 409.
        Assert.Equal(HttpStatusCode.Created, (await ClaimAsync(shopper, secondOrder, secondToken)).Status);
        await VerifyAsync(shopper, (string)first.Body!["account_id"]!);
        var owned = await ClaimAsync(shopper, thirdOrder, thirdToken);
        Assert.Equal(HttpStatusCode.Conflict, owned.Status);
        Assert.Equal("ACCOUNT_EXISTS", owned.Error);
    }

    [Fact]
    public async Task ASquattersUnverifiedAccount_NeverOwnsTheEmail_AndGoesWhenTheOwnerProvesIt()
    {
        using var squatter = App.Shopper();
        using var owner = App.Shopper();
        var email = NewEmail();
        var (ownersEarlier, _) = await PlaceAsync(owner, email);
        var (squatted, squattedToken) = await PlaceAsync(squatter, email);
        var squatterAccount = (string)(await ClaimAsync(squatter, squatted, squattedToken, "the squatter's own secret")).Body!["account_id"]!;
        var squatterToken = (string)(await SignInAsync(squatter, email, "the squatter's own secret")).Body!["access_token"]!;
        // Unverified, it sees only the order it was claimed from.
        Assert.Equal([squatted], await OrdersOfAsync(squatter, squatterToken));

        var (ownersOrder, ownersToken) = await PlaceAsync(owner, email);
        var claimed = await ClaimAsync(owner, ownersOrder, ownersToken);
        Assert.Equal(HttpStatusCode.Created, claimed.Status);
        var ownerAccount = (string)claimed.Body!["account_id"]!;

        // The squatter's code was mailed to the owner, but it opens only the squatter's account.
        Assert.Equal("INVALID_CODE", (await VerifyWithAsync(owner, ownerAccount, await EmailProofs.CodeAsync(App, squatterAccount))).Error);
        await VerifyAsync(owner, ownerAccount);

        Assert.Equal(HttpStatusCode.Unauthorized, (await squatter.SendAsync(HttpMethod.Get, "/api/v2/accounts/me/orders", null, squatterToken)).Status);
        Assert.Equal("INVALID_CREDENTIALS", (await SignInAsync(squatter, email, "the squatter's own secret")).Error);
        Assert.Equal("INVALID_CODE", (await VerifyWithAsync(squatter, squatterAccount, await EmailProofs.CodeAsync(App, squatterAccount))).Error);
        Assert.Equal(new[] { ownersEarlier, squatted, ownersOrder }.Order(), (await MyOrdersAsync(owner, email)).Order());
    }

    [Fact]
    public async Task CompatibilityFormsOfAnEmail_AreOneEmail_ForOrdersAccountsAndSignIn()
    {
        using var shopper = App.Shopper();
        var local = $"kate.{Guid.NewGuid():N}";
        var (plain, _) = await PlaceAsync(shopper, $"{local}@example.com");
        var (kelvin, kelvinToken) = await PlaceAsync(shopper, $"\u212A{local[1..]}@example.com"); // the Kelvin sign, for the k
        var created = await ClaimAsync(shopper, kelvin, kelvinToken);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.StartsWith("\u212A***@", (string?)created.Body!["email"], StringComparison.Ordinal); // kept as typed

        await VerifyAsync(shopper, (string)created.Body["account_id"]!);

        var fullWidth = string.Concat($"{local}@example.com".ToUpperInvariant().Select(c => c is >= 'A' and <= 'Z' ? (char)(c - 'A' + '\uFF21') : c));
        Assert.Equal(new[] { plain, kelvin }.Order(), (await MyOrdersAsync(shopper, $"  {fullWidth} ")).Order());
        var (upper, upperToken) = await PlaceAsync(shopper, $"{local.ToUpperInvariant()}@EXAMPLE.COM");
        Assert.Equal("ACCOUNT_EXISTS", (await ClaimAsync(shopper, upper, upperToken)).Error);
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
    public async Task WrongPasswordsFromStrangers_NeverLockTheOwnerOut_ButAFailingAddressIsRefused()
    {
        using var shopper = App.Shopper();
        var email = NewEmail();
        var (orderId, token) = await PlaceAsync(shopper, email);
        await ClaimAsync(shopper, orderId, token);
        Task<Reply> From(string address, string password, string spelling) => shopper.SendAsync(HttpMethod.Post, "/api/v2/accounts/sessions",
            new JsonObject { ["email"] = spelling, ["password"] = password }, configure: r => r.Headers.Add("X-Forwarded-For", address));

        // Five strangers, one wrong password each, in every spelling of the email.
        for (var i = 0; i < SignInThrottle.FreeFailuresPerAccount; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await From($"203.0.113.{i}", "guess number " + i, i % 2 == 0 ? email.ToUpperInvariant() : $" {email} ")).Status);
        }
        Assert.Equal(HttpStatusCode.OK, (await From("198.51.100.7", Password, email)).Status);

        // One address that keeps failing is refused, whatever it sends; the owner elsewhere is not.
        for (var i = 0; i < SignInThrottle.FailuresPerAddress; i++)
        {
            await From("203.0.113.99", "guess again " + i, email);
        }
        var refused = await From("203.0.113.99", Password, email);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.NotNull(refused.Header("Retry-After"));
        Assert.Equal(HttpStatusCode.OK, (await From("198.51.100.8", Password, email)).Status);
    }

    [Fact]
    public async Task Passwords_AreCountedInCodePoints_AndWeakOnesAreRefusedWithAReason()
    {
        using var shopper = App.Shopper();
        var (orderId, token) = await PlaceAsync(shopper, NewEmail());

        Assert.Equal([("password", "TOO_SHORT")], (await ClaimAsync(shopper, orderId, token, string.Concat(Enumerable.Repeat("\U0001F600", 6)))).FieldErrors);
        foreach (var weak in (string[])[new string(' ', 12), new string('\0', 12), "aaaaaaaaaaaa", "123456789012", "passwordpassword", "qwertyuiopas"])
        {
            var refused = await ClaimAsync(shopper, orderId, token, weak);
            Assert.Equal([("password", "PASSWORD_TOO_WEAK")], refused.FieldErrors);
            Assert.Contains("too easy to guess: it ", (string?)refused.Body!["errors"]![0]!["message"], StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.Created, (await ClaimAsync(shopper, orderId, token, string.Concat(Enumerable.Repeat("\U0001F600\U0001F3B8\U0001F30D", 4)) + " tuba")).Status);
    }

    [Fact]
    public async Task SignOut_RevokesTheAccessToken()
    {
        using var shopper = App.Shopper();
        var email = NewEmail();
        var (orderId, token) = await PlaceAsync(shopper, email);
        await ClaimAsync(shopper, orderId, token);
        var accessToken = (string)(await SignInAsync(shopper, email)).Body!["access_token"]!;

        Assert.Equal(HttpStatusCode.NoContent, (await shopper.SendAsync(HttpMethod.Delete, "/api/v2/accounts/sessions/current", null, accessToken)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await shopper.SendAsync(HttpMethod.Get, "/api/v2/accounts/me/orders", null, accessToken)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await shopper.SendAsync(HttpMethod.Delete, "/api/v2/accounts/sessions/current", null, accessToken)).Status);
    }

    [Fact]
    public async Task SignIn_WithAHashOfOlderSettings_HashesThePasswordAgain()
    {
        using var shopper = App.Shopper();
        var email = NewEmail();
        var (orderId, token) = await PlaceAsync(shopper, email);
        var accountId = (string)(await ClaimAsync(shopper, orderId, token)).Body!["account_id"]!;
        var legacy = new Microsoft.AspNetCore.Identity.PasswordHasher<Account>(Microsoft.Extensions.Options.Options.Create(
            new Microsoft.AspNetCore.Identity.PasswordHasherOptions { CompatibilityMode = Microsoft.AspNetCore.Identity.PasswordHasherCompatibilityMode.IdentityV2 }));
        var accounts = App.Services.GetRequiredService<AccountStore>();
        await accounts.ReplacePasswordHashAsync(accountId, legacy.HashPassword(null!, Password), CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(shopper, email)).Status);

        var stored = Assert.Single(await accounts.ForSignInAsync(email, CancellationToken.None)).PasswordHash;
        Assert.Equal(0x01, Convert.FromBase64String(stored)[0]); // Identity's v3 format
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(shopper, email)).Status);
    }

    [Fact]
    public async Task APendingAccount_NotVerifiedIn7Days_IsDeleted()
    {
        using var shopper = App.Shopper();
        var email = NewEmail();
        var (orderId, token) = await PlaceAsync(shopper, email);
        await ClaimAsync(shopper, orderId, token);
        // The store's pass at a time of the test's choosing: a fake clock jumped 7 days would wake every periodic pass a million times.
        var accounts = App.Services.GetRequiredService<AccountStore>();
        var claimedAt = TimeProvider.System.GetUtcNow();

        Assert.Equal(0, await accounts.DeleteExpiredPendingAsync(claimedAt + AccountStore.PendingLifetime - TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(shopper, email)).Status);

        Assert.Equal(1, await accounts.DeleteExpiredPendingAsync(claimedAt + AccountStore.PendingLifetime + TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal("INVALID_CREDENTIALS", (await SignInAsync(shopper, email)).Error);
        Assert.Equal(HttpStatusCode.Created, (await ClaimAsync(shopper, orderId, token)).Status); // the order is a guest order again
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

using System.Net;
using System.Text.Json.Nodes;
using CheckoutService.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CheckoutService.IntegrationTests;

/// <summary>Every log line at Trace level, from our code and the frameworks', holds no secret and no whole email.</summary>
public sealed class LogRedactionTests : IAsyncDisposable
{
    private const string ServiceToken = "svc_tok_checkout_7f8e9d_do_not_log";
    private readonly CheckoutApp _app;

    public LogRedactionTests()
    {
        _app = new CheckoutApp
        {
            ReplaceServices = services => services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging()),
        };
        _app.Settings["PAYMENT_GATEWAY_SERVICE_TOKEN"] = ServiceToken;
        foreach (var category in new[] { "Default", "Microsoft", "Microsoft.AspNetCore", "Microsoft.AspNetCore.Hosting.Diagnostics", "System.Net.Http.HttpClient", "Microsoft.Extensions.Http" })
        {
            _app.Settings[$"Logging:LogLevel:{category}"] = "Trace";
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task FullCheckouts_AtTraceLevel_LogNoSecretTokenOrUnmaskedEmail()
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var (sessionId, token) = await shopper.StartSessionAsync(cartId, "user4827@example.com");
        await shopper.SendAsync(HttpMethod.Put, $"/api/v2/checkout/guest/session/{sessionId}/shipping-address", ShopperClient.Springfield.DeepClone(), token);
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, "pm_stripe_4f9c_flaky"), token);
        var secondCart = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var declined = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(secondCart, "pm_x_declined", "shopper.test@example.com"));
        // A 3-D Secure payment: its 402 carries the intent's client secret, which no log may.
        var thirdCart = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 2));
        var challenged = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(thirdCart, "pm_card_authenticationRequired"));
        Assert.Equal(HttpStatusCode.Created, placed.Status);
        Assert.Equal(HttpStatusCode.PaymentRequired, declined.Status);
        Assert.Equal("AUTHENTICATION_REQUIRED", challenged.Error);
        Assert.Contains("_secret_", (string)challenged.Body!["client_secret"]!, StringComparison.Ordinal);

        var records = _app.Services.GetFakeLogCollector().GetSnapshot();
        var lines = records.Select(r => $"{r.Message} {string.Join(" ", r.StructuredState?.Select(kv => $"{kv.Key}={kv.Value}") ?? [])} {r.Exception}").ToList();

        Assert.Contains(records, r => r.Level == LogLevel.Trace); // the framework's Trace logs were on
        Assert.Contains(lines, l => l.Contains("cs_***", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("shopper u***@example.com,", StringComparison.Ordinal));
        Assert.All(lines, line =>
        {
            Assert.DoesNotContain("_secret_", line, StringComparison.Ordinal);
            Assert.DoesNotContain(token, line, StringComparison.Ordinal);
            Assert.DoesNotContain(ServiceToken, line, StringComparison.Ordinal);
            Assert.DoesNotContain("user4827@example.com", line, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("shopper.test@example.com", line, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain((string)placed.Body!["confirmation_token"]!, line, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task AccountsAndLookUps_AtTraceLevel_LogNoPasswordCodeOrToken_NotEvenInAQueryString()
    {
        using var shopper = _app.Shopper();
        const string password = "hunter2 hunter2 do not log";
        var cartId = await shopper.CreateCartAsync(("SKU-MUG-12OZ", 1));
        var placed = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, email: "account.owner@example.com"));
        var created = await shopper.SendAsync(HttpMethod.Post, "/api/v2/accounts", new JsonObject
        {
            ["order_id"] = (string)placed.Body!["order_id"]!,
            ["confirmation_token"] = (string)placed.Body["confirmation_token"]!,
            ["password"] = password,
        });
        var accountId = (string)created.Body!["account_id"]!;
        var code = await EmailProofs.CodeAsync(_app, accountId);
        await shopper.SendAsync(HttpMethod.Post, $"/api/v2/accounts/{accountId}/verify-email", new JsonObject { ["code"] = code });
        var signedIn = await shopper.SendAsync(HttpMethod.Post, "/api/v2/accounts/sessions", new JsonObject { ["email"] = "account.owner@example.com", ["password"] = password });
        var accessToken = (string)signedIn.Body!["access_token"]!;
        await shopper.SendAsync(HttpMethod.Get, "/api/v2/accounts/me/orders", null, accessToken);
        // The order looked up both ways: the token as a bearer, and in the query string old clients use.
        var orderId = (string)placed.Body["order_id"]!;
        var confirmationToken = (string)placed.Body["confirmation_token"]!;
        await shopper.SendAsync(HttpMethod.Get, $"/api/v2/checkout/guest/orders/{orderId}", null, confirmationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK,
            (await shopper.SendAsync(HttpMethod.Get, $"/api/v2/checkout/guest/orders/{orderId}?confirmation_token={confirmationToken}", null)).Status);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await shopper.SendAsync(HttpMethod.Delete, "/api/v2/accounts/sessions/current", null, accessToken)).Status);

        var lines = _app.Services.GetFakeLogCollector().GetSnapshot()
            .Select(r => $"{r.Message} {string.Join(" ", r.StructuredState?.Select(kv => $"{kv.Key}={kv.Value}") ?? [])} {r.Exception}").ToList();

        Assert.NotEmpty(lines);
        Assert.All(lines, line =>
        {
            Assert.DoesNotContain(password, line, StringComparison.Ordinal);
            Assert.DoesNotContain(accessToken, line, StringComparison.Ordinal);
            Assert.DoesNotContain(confirmationToken, line, StringComparison.Ordinal);
            Assert.DoesNotContain($"\"{code}\"", line, StringComparison.Ordinal);
            Assert.DoesNotContain("account.owner@example.com", line, StringComparison.OrdinalIgnoreCase);
        });
    }
}

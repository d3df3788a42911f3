using System.Diagnostics;
using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;

namespace CheckoutService.IntegrationTests;

/// <summary>What the service will and will not start with, and how it says which part it runs.</summary>
public sealed class StartupTests(RedisServers redis)
{
    [Fact]
    public async Task Production_WithTheSimulatorOptedInOnPurpose_Starts_AndHealthSaysSo()
    {
        await using var app = new CheckoutApp { Environment = "Production" };
        app.Settings["PAYMENT_GATEWAY_URL"] = "embedded";
        app.Settings["EMAIL_EVENT_KEY"] = Convert.ToBase64String(new byte[32]);
        using var shopper = app.Shopper();

        var health = await shopper.SendAsync(HttpMethod.Get, "/healthz", null);

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Equal("embedded", (string?)health.Body!["modes"]!["gateway"]);
        Assert.NotNull(app.Gateway); // started with the host, before any request needed it
    }

    [Fact]
    public async Task Health_InEmbeddedMode_NamesItsParts_AndReportsNoRedis()
    {
        await using var app = new CheckoutApp();
        using var shopper = app.Shopper();

        var health = await shopper.SendAsync(HttpMethod.Get, "/healthz", null);

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Equal("up", (string?)health.Body!["checks"]!["database"]);
        Assert.Null(health.Body["checks"]!["redis"]);
        Assert.Equal("in-process", (string?)health.Body["modes"]!["shared_state"]);
        Assert.Equal("sqlite", (string?)health.Body["modes"]!["database"]);
        Assert.Equal("embedded", (string?)health.Body["modes"]!["gateway"]);
    }

    [Fact]
    public async Task Health_OnRedis_ChecksIt()
    {
        await using var app = new CheckoutApp();
        app.Settings["REDIS_URL"] = redis.Standalone.Url;
        using var shopper = app.Shopper();

        var health = await shopper.SendAsync(HttpMethod.Get, "/healthz", null);

        Assert.Equal("up", (string?)health.Body!["checks"]!["redis"]);
        Assert.Equal("redis", (string?)health.Body["modes"]!["shared_state"]);
    }

    [Fact]
    public async Task OpenApi_DescribesEveryEndpoint_AndItsErrorBodies()
    {
        await using var app = new CheckoutApp();
        using var shopper = app.Shopper();

        var document = (await shopper.SendAsync(HttpMethod.Get, "/openapi/v1.json", null)).Body!;

        var paths = document["paths"]!.AsObject();
        foreach (var path in (string[])["/api/v2/products", "/api/v2/carts", "/api/v2/carts/{cartId}", "/api/v2/carts/{cartId}/items/{sku}",
            "/api/v2/checkout/guest/session", "/api/v2/checkout/guest/session/{sessionId}", "/api/v2/checkout/guest"])
        {
            Assert.True(paths.ContainsKey(path), path);
        }
        var checkout = paths["/api/v2/checkout/guest"]!["post"]!["responses"]!.AsObject();
        Assert.All((string[])["201", "402", "404", "409", "422", "502"], status => Assert.True(checkout.ContainsKey(status), status));
        var schemas = document["components"]!["schemas"]!.AsObject();
        Assert.True(schemas.ContainsKey("ErrorBody") && schemas.ContainsKey("ValidationBody"));
        // A 402's body says what the client acts on: a decline's code, or the 3-D Secure step and the secret that opens it.
        var errorBody = schemas["ErrorBody"]!["properties"]!.AsObject();
        Assert.All((string[])["decline_code", "next_action", "client_secret"], field => Assert.True(errorBody.ContainsKey(field), field));
        var description = (string?)paths["/api/v2/checkout/guest"]!["post"]!["description"];
        Assert.Contains("AUTHENTICATION_REQUIRED", description, StringComparison.Ordinal);
        Assert.Contains("same Idempotency-Key", description, StringComparison.Ordinal);
        Assert.Contains("payment_intent.succeeded webhook", description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GUEST_SESSION_TTL_SECONDS", "5", "GUEST_SESSION_TTL_SECONDS")]
    [InlineData("GUEST_SESSION_TTL_SECONDS", "fifteen minutes", "GUEST_SESSION_TTL_SECONDS")]
    [InlineData("PAYMENT_GATEWAY_URL", "ftp://gateway.internal", "PAYMENT_GATEWAY_URL")]
    [InlineData("DATABASE_URL", "mysql:nonsense=;;", "DATABASE_URL")]
    [InlineData("ASPNETCORE_ENVIRONMENT", "Production", "PAYMENT_GATEWAY_URL")] // the simulator never takes money in Production by accident
    [InlineData("EMAIL_EVENT_KEY", "not-32-bytes", "EMAIL_EVENT_KEY")]
    public async Task ABadSetting_StopsStartUp_WithOneLineNamingTheVariable_AndNoStackTrace(string variable, string value, string named)
    {
        var start = new ProcessStartInfo("dotnet", Path.Combine(AppContext.BaseDirectory, "Checkout.Service.dll"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["DATABASE_URL"] = "sqlite:" + Path.Combine(Path.GetTempPath(), "checkout-startup-" + Guid.NewGuid().ToString("N"), "checkout.db"),
                [variable] = value,
            },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.NotEqual(0, process.ExitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error + await output, StringComparison.Ordinal);
    }
}

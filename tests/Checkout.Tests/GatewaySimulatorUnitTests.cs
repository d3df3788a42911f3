using Microsoft.Extensions.Time.Testing;
using PaymentGateway.Contracts;
using PaymentGateway.Simulator;

namespace CheckoutService.Tests;

/// <summary>The simulator runs for hours under the load tool: what it remembers has a ceiling.</summary>
public class GatewaySimulatorUnitTests
{
    private static CreateIntentRequest Intent(string cartId) => new(10.00m, "USD", "pm_stripe_good", new IntentMetadata(cartId, "guest", null));

    [Fact]
    public void Ledger_KeepsOnlyTheNewestIntents_AndForgetsTheirKeys()
    {
        var simulator = new GatewaySimulator(TimeProvider.System) { MaxIntents = 10 };

        for (var i = 0; i < 25; i++)
        {
            simulator.CreateIntent(Intent("cart_bounded"), $"key-{i}:create");
            simulator.ConfirmIntent(new ConfirmIntentRequest(simulator.FindByIdempotencyKey($"key-{i}:create")!.IntentId, "https://x"), $"key-{i}:confirm");
        }

        var ledger = simulator.Ledger("cart_bounded");
        Assert.Equal(10, ledger.Intents.Count);
        Assert.Equal(10, ledger.Charges);
        Assert.Null(simulator.FindByIdempotencyKey("key-0:create"));
        Assert.Null(simulator.FindByIdempotencyKey("key-0:confirm"));
        Assert.NotNull(simulator.FindByIdempotencyKey("key-24:confirm"));
    }

    [Fact]
    public void CallLog_KeepsOnlyTheNewestCalls()
    {
        var simulator = new GatewaySimulator(TimeProvider.System) { MaxCalls = 10 };

        for (var i = 0; i < 25; i++)
        {
            simulator.Record("/api/v1/intents/create", $"key-{i}", 0, null);
        }

        Assert.Equal(10, simulator.Calls.Count);
        Assert.Equal("key-24", simulator.Calls[^1].IdempotencyKey);
    }
}

/// <summary>3-D Secure and Stripe's test cards in the simulated gateway: what a service confirming intents meets.</summary>
public class GatewaySimulatorAuthenticationUnitTests
{
    private const string ReturnUrl = "https://www.vantage.com/checkout/guest?cart_id=cart_3ds";

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 15, 12, 0, 0, TimeSpan.Zero));

    private GatewaySimulator NewSimulator() => new(_clock);

    private static GatewaySimulator.Outcome Pay(GatewaySimulator simulator, string paymentMethodId, string key, string returnUrl = ReturnUrl)
    {
        var created = (GatewaySimulator.Created)simulator.CreateIntent(
            new CreateIntentRequest(25.00m, "USD", paymentMethodId, new IntentMetadata("cart_3ds", "guest", "sess_1")), key + ":create");
        return simulator.ConfirmIntent(new ConfirmIntentRequest(created.Intent.IntentId, returnUrl), key + ":confirm");
    }

    private static IntentRecord Challenged(GatewaySimulator simulator, string paymentMethodId = "pm_card_authenticationRequired")
    {
        var confirmed = Assert.IsType<GatewaySimulator.Confirmed>(Pay(simulator, paymentMethodId, "k1"));
        Assert.Equal(IntentStatus.RequiresAction, confirmed.Intent.Status);
        return confirmed.Intent;
    }

    [Fact]
    public void Confirm_AuthenticationRequired_WaitsForTheChallengeWithoutCharging()
    {
        var simulator = NewSimulator();

        var intent = Challenged(simulator);

        Assert.Null(intent.ChargeId);
        Assert.Equal(ReturnUrl, intent.ReturnUrl);
        Assert.Equal(0, simulator.Ledger("cart_3ds").Charges);
    }

    [Fact]
    public void Confirm_AgainWhileTheChallengeIsOpen_StaysRequiresActionAndCharges0()
    {
        var simulator = NewSimulator();
        var intent = Challenged(simulator);

        var again = simulator.ConfirmIntent(new ConfirmIntentRequest(intent.IntentId, ReturnUrl), "k1:confirm-again");

        Assert.Equal(IntentStatus.RequiresAction, Assert.IsType<GatewaySimulator.Confirmed>(again).Intent.Status);
        Assert.Equal(0, simulator.Ledger("cart_3ds").Charges);
    }

    [Fact]
    public void CompleteAuthentication_Completed_ChargesOnce_HoweverOftenSubmittedOrConfirmed()
    {
        var simulator = NewSimulator();
        var intent = Challenged(simulator);
        var secret = simulator.ClientSecretOf(intent.IntentId);

        var completed = simulator.CompleteAuthentication(intent.IntentId, secret, authenticated: true);
        var resubmitted = simulator.CompleteAuthentication(intent.IntentId, secret, authenticated: true);
        var failedLate = simulator.CompleteAuthentication(intent.IntentId, secret, authenticated: false);
        var reconfirmed = simulator.ConfirmIntent(new ConfirmIntentRequest(intent.IntentId, ReturnUrl), "k1:confirm");

        Assert.Equal(IntentStatus.Succeeded, completed?.Status);
        Assert.NotNull(completed?.ChargeId);
        Assert.Equal(completed, resubmitted);
        Assert.Equal(completed, failedLate);
        Assert.Equal(completed, Assert.IsType<GatewaySimulator.Confirmed>(reconfirmed).Intent);
        Assert.Equal(1, simulator.Ledger("cart_3ds").Charges);
    }

    [Fact]
    public void CompleteAuthentication_Failed_NeedsAnotherCard_AndConfirmSaysAuthenticationFailed()
    {
        var simulator = NewSimulator();
        var intent = Challenged(simulator);
        var secret = simulator.ClientSecretOf(intent.IntentId);

        var failed = simulator.CompleteAuthentication(intent.IntentId, secret, authenticated: false);
        var completedLate = simulator.CompleteAuthentication(intent.IntentId, secret, authenticated: true);
        var reconfirmed = simulator.ConfirmIntent(new ConfirmIntentRequest(intent.IntentId, ReturnUrl), "k1:confirm");

        Assert.Equal(IntentStatus.RequiresPaymentMethod, failed?.Status);
        Assert.Equal("payment_intent_authentication_failure", failed?.LastPaymentError?.Error);
        Assert.Equal(IntentStatus.RequiresPaymentMethod, completedLate?.Status);
        var refused = Assert.IsType<GatewaySimulator.Failed>(reconfirmed);
        Assert.Equal((402, "payment_intent_authentication_failure"), (refused.StatusCode, refused.Error.Error));
        Assert.Equal(0, simulator.Ledger("cart_3ds").Charges);
    }

    [Fact]
    public void CompleteAuthentication_WrongClientSecret_ChangesNothing()
    {
        var simulator = NewSimulator();
        var intent = Challenged(simulator);

        Assert.Null(simulator.CompleteAuthentication(intent.IntentId, intent.IntentId + "_secret_guessed", authenticated: true));
        Assert.Null(simulator.CompleteAuthentication("pi_sim_unknown", simulator.ClientSecretOf("pi_sim_unknown"), authenticated: true));
        Assert.Equal(IntentStatus.RequiresAction, simulator.FindByIdempotencyKey("k1:create")?.Status);
    }

    [Theory]
    [InlineData("https://evil.example/checkout")]
    [InlineData("https://www.vantage.com.evil.example/checkout")]
    [InlineData("javascript:alert(1)")]
    [InlineData("")]
    public void Confirm_ReturnUrlNotAllowed_IsRefusedAndTheIntentIsNotChallenged(string returnUrl)
    {
        var simulator = NewSimulator();

        var refused = Assert.IsType<GatewaySimulator.Failed>(Pay(simulator, "pm_card_authenticationRequired", "k1", returnUrl));

        Assert.Equal(400, refused.StatusCode);
        Assert.Equal(IntentStatus.RequiresConfirmation, simulator.FindByIdempotencyKey("k1:create")?.Status);
    }

    [Theory]
    [InlineData("pm_card_chargeDeclined", "card_declined", "generic_decline")]
    [InlineData("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds")]
    [InlineData("pm_stripe_declined", "card_declined", "generic_decline")] // the fault-injecting suffix, as before
    public void Confirm_DecliningPaymentMethod_Answers402WithStripesCodes(string paymentMethodId, string error, string declineCode)
    {
        var simulator = NewSimulator();

        var refused = Assert.IsType<GatewaySimulator.Failed>(Pay(simulator, paymentMethodId, "k1"));

        Assert.Equal(402, refused.StatusCode);
        Assert.Equal((error, declineCode), (refused.Error.Error, refused.Error.DeclineCode));
        Assert.Equal(0, simulator.Ledger("cart_3ds").Charges);
    }

    [Theory]
    [InlineData("pm_card_visa")]
    [InlineData("pm_card_mastercard")]
    [InlineData("pm_stripe_good")]
    public void Confirm_OtherPaymentMethods_Succeed(string paymentMethodId)
    {
        var simulator = NewSimulator();

        Assert.Equal(IntentStatus.Succeeded, Assert.IsType<GatewaySimulator.Confirmed>(Pay(simulator, paymentMethodId, "k1")).Intent.Status);
    }

    [Theory]
    [InlineData("4242424242424242", IntentStatus.Succeeded, null)]
    [InlineData("4000000000000002", null, "generic_decline")]
    [InlineData("4000000000000069", null, "expired_card")]
    [InlineData("4000000000000127", null, "incorrect_cvc")]
    [InlineData("4000002760003184", IntentStatus.RequiresAction, null)]
    [InlineData("4000000000003220", IntentStatus.RequiresAction, null)]
    public void Confirm_TokenizedTestCard_HasItsDocumentedOutcome(string number, string? status, string? declineCode)
    {
        var simulator = NewSimulator();
        var method = simulator.PaymentMethods.Tokenize(CardInput.WithExpiry(number, "12/30", "123", "10001")).Method!;

        var outcome = Pay(simulator, method.Id, "k1");

        Assert.Equal(status, (outcome as GatewaySimulator.Confirmed)?.Intent.Status);
        Assert.Equal(declineCode, (outcome as GatewaySimulator.Failed)?.Error.DeclineCode);
    }

    [Fact]
    public void ClientSecret_IsStableForAnIntent_AndNotDerivableFromItsId()
    {
        var one = NewSimulator();
        var other = NewSimulator();

        Assert.Equal(one.ClientSecretOf("pi_sim_1"), one.ClientSecretOf("pi_sim_1"));
        Assert.NotEqual(one.ClientSecretOf("pi_sim_1"), other.ClientSecretOf("pi_sim_1"));
        Assert.StartsWith("pi_sim_1_secret_", one.ClientSecretOf("pi_sim_1"), StringComparison.Ordinal);
    }
}

public class OriginAllowListUnitTests
{
    private static readonly OriginAllowList Vantage = new(["https://www.vantage.com"], allowLoopback: false);

    [Theory]
    [InlineData("https://www.vantage.com/checkout/guest?cart_id=c1", true)]
    [InlineData("https://WWW.VANTAGE.COM/checkout", true)]
    [InlineData("https://www.vantage.com:443/checkout", true)]
    [InlineData("http://www.vantage.com/checkout", false)]
    [InlineData("https://www.vantage.com:8443/checkout", false)]
    [InlineData("https://www.vantage.com@evil.example/checkout", false)]
    [InlineData("https://evil.example/?https://www.vantage.com", false)]
    [InlineData("//www.vantage.com/checkout", false)]
    [InlineData("/checkout", false)]
    [InlineData("http://127.0.0.1:5000/checkout", false)]
    [InlineData(null, false)]
    public void Allows_OnlyUrlsOnAListedOrigin(string? url, bool allowed) => Assert.Equal(allowed, Vantage.Allows(url));

    [Theory]
    [InlineData("http://127.0.0.1:5123/checkout", true)]
    [InlineData("http://localhost:8080/", true)]
    [InlineData("http://127.0.0.2.evil.example/", false)]
    public void Allows_LoopbackOnAnyPort_WhenTurnedOn(string url, bool allowed) =>
        Assert.Equal(allowed, new OriginAllowList([], allowLoopback: true).Allows(url));

    [Theory]
    [InlineData("https://www.vantage.com", true)]
    [InlineData("https://www.vantage.com/", false)]
    [InlineData("https://www.vantage.com/checkout", false)]
    [InlineData("https://evil.example", false)]
    [InlineData("null", false)]
    public void AllowsOrigin_TakesOnlyABareOrigin(string origin, bool allowed) => Assert.Equal(allowed, Vantage.AllowsOrigin(origin));
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PaymentGateway.Contracts;
using PaymentGateway.Simulator;

namespace CheckoutService.Tests;

/// <summary>
/// The simulator's browser side and 3-D Secure through its real HTTP endpoints, on a loopback
/// port (no other I/O), as the service and a shopper's browser reach it.
/// </summary>
public sealed class GatewaySimulatorHttpTests : IAsyncLifetime
{
    private const string Shop = "http://127.0.0.1:5999";
    private const string ReturnUrl = Shop + "/checkout/guest?cart_id=cart_http";

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 15, 12, 0, 0, TimeSpan.Zero));
    private EmbeddedGatewaySimulator _gateway = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _gateway = await EmbeddedGatewaySimulator.StartAsync(time: _clock, cancellationToken: TestContext.Current.CancellationToken);
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _gateway.BaseAddress };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<HttpResponseMessage> ConfirmAsync(string paymentMethodId, string key, string returnUrl = ReturnUrl)
    {
        using var createRequest = new HttpRequestMessage(HttpMethod.Post, "/api/v1/intents/create")
        {
            Content = JsonContent.Create(new CreateIntentRequest(42.50m, "USD", paymentMethodId, new IntentMetadata("cart_http", "guest", "sess_http")),
                GatewayJson.Default.CreateIntentRequest),
        };
        createRequest.Headers.Add("Idempotency-Key", key + ":create");
        using var create = await _http.SendAsync(createRequest, Ct);
        var intent = await create.Content.ReadFromJsonAsync(GatewayJson.Default.CreateIntentResponse, Ct);
        using var confirm = new HttpRequestMessage(HttpMethod.Post, "/api/v1/intents/confirm")
        {
            Content = JsonContent.Create(new ConfirmIntentRequest(intent!.IntentId, returnUrl), GatewayJson.Default.ConfirmIntentRequest),
        };
        confirm.Headers.Add("Idempotency-Key", key + ":confirm");
        return await _http.SendAsync(confirm, Ct);
    }

    private async Task<ConfirmIntentResponse> ChallengedAsync()
    {
        using var response = await ConfirmAsync("pm_card_authenticationRequired", "k3ds");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync(GatewayJson.Default.ConfirmIntentResponse, Ct);
        Assert.Equal(IntentStatus.RequiresAction, body!.Status);
        return body;
    }

    private Task<HttpResponseMessage> PostFormAsync(string path, Dictionary<string, string> fields, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }
        return _http.SendAsync(request, Ct);
    }

    private static Dictionary<string, string> Card(string number, string expMonth = "12", string expYear = "30") => new()
    {
        ["type"] = "card",
        ["card[number]"] = number,
        ["card[exp_month]"] = expMonth,
        ["card[exp_year]"] = expYear,
        ["card[cvc]"] = "123",
        ["billing_details[address][postal_code]"] = "10001",
    };

    [Fact]
    public async Task Confirm_AuthenticationRequired_AnswersRequiresActionWithTheChallengeAndClientSecret()
    {
        var body = await ChallengedAsync();

        Assert.Equal(0m, body.AmountReceived);
        Assert.Null(body.ChargeId);
        Assert.StartsWith(body.IntentId + "_secret_", body.ClientSecret, StringComparison.Ordinal);
        Assert.Equal("redirect_to_url", body.NextAction?.Type);
        Assert.Equal(ReturnUrl, body.NextAction?.RedirectToUrl.ReturnUrl);
        Assert.StartsWith(new Uri(_gateway.BaseAddress, "/v3/authenticate/" + body.IntentId + "?client_secret=").ToString(),
            body.NextAction?.RedirectToUrl.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirm_ReturnUrlOnAnotherOrigin_Is400()
    {
        using var response = await ConfirmAsync("pm_card_authenticationRequired", "kevil", "https://evil.example/return");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Challenge_IsAPlainFormWithTwoButtons_FramedByNoOne()
    {
        var challenge = await ChallengedAsync();

        using var page = await _http.GetAsync(challenge.NextAction!.RedirectToUrl.Url, Ct);
        var html = await page.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(">Complete authentication</button>", html, StringComparison.Ordinal);
        Assert.Contains(">Fail authentication</button>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("form-action 'self' " + Shop, csp, StringComparison.Ordinal);
        Assert.Equal("no-referrer", page.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task Challenge_Completed_RedirectsToTheShopChargesOnceAndSendsTheSignedWebhook()
    {
        await using var webhooks = await WebhookReceiver.StartAsync();
        _gateway.Webhooks.Target = new WebhookTarget(webhooks.Url, "whsec_test");
        var challenge = await ChallengedAsync();

        using var answer = await PostFormAsync($"/v3/authenticate/{challenge.IntentId}",
            new() { ["client_secret"] = challenge.ClientSecret!, ["outcome"] = "complete" });
        using var again = await PostFormAsync($"/v3/authenticate/{challenge.IntentId}",
            new() { ["client_secret"] = challenge.ClientSecret!, ["outcome"] = "complete" });
        using var reconfirm = await ConfirmAsync("pm_card_authenticationRequired", "k3ds"); // a new intent would be a new charge: same key, same cart
        var (signature, payload) = await webhooks.NextAsync();

        Assert.Equal(HttpStatusCode.SeeOther, answer.StatusCode);
        var location = answer.Headers.Location!.ToString();
        Assert.StartsWith(ReturnUrl + "&", location, StringComparison.Ordinal);
        Assert.Contains("payment_intent=" + challenge.IntentId, location, StringComparison.Ordinal);
        Assert.Contains("redirect_status=succeeded", location, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        var ledger = _gateway.Simulator.Ledger("cart_http");
        Assert.Equal(1, ledger.Charges);

        using var json = JsonDocument.Parse(payload);
        Assert.Equal("payment_intent.succeeded", json.RootElement.GetProperty("type").GetString());
        var intent = json.RootElement.GetProperty("data").GetProperty("object");
        Assert.Equal(challenge.IntentId, intent.GetProperty("id").GetString());
        Assert.Equal(4250, intent.GetProperty("amount_received").GetInt64());
        var metadata = intent.GetProperty("metadata");
        Assert.Equal(("cart_http", "guest", "sess_http"),
            (metadata.GetProperty("cart_id").GetString(), metadata.GetProperty("checkout_type").GetString(), metadata.GetProperty("session_id").GetString()));
        var t = signature.Split(',')[0]["t=".Length..];
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("whsec_test"), Encoding.UTF8.GetBytes($"{t}.{payload}")));
        Assert.Equal($"t={t},v1={expected}", signature);
    }

    [Fact]
    public async Task Challenge_Failed_RedirectsAsFailed_AndConfirmAnswers402AuthenticationFailure()
    {
        var challenge = await ChallengedAsync();

        using var answer = await PostFormAsync($"/v3/authenticate/{challenge.IntentId}",
            new() { ["client_secret"] = challenge.ClientSecret!, ["outcome"] = "fail" });
        using var confirm = new HttpRequestMessage(HttpMethod.Post, "/api/v1/intents/confirm")
        {
            Content = JsonContent.Create(new ConfirmIntentRequest(challenge.IntentId, ReturnUrl), GatewayJson.Default.ConfirmIntentRequest),
        };
        using var reconfirm = await _http.SendAsync(confirm, Ct);

        Assert.Contains("redirect_status=failed", answer.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.PaymentRequired, reconfirm.StatusCode);
        Assert.Equal("payment_intent_authentication_failure", (await reconfirm.Content.ReadFromJsonAsync(GatewayJson.Default.GatewayError, Ct))!.Error);
        Assert.Equal(0, _gateway.Simulator.Ledger("cart_http").Charges);
    }

    [Fact]
    public async Task Challenge_WrongClientSecret_Is404AndChangesNothing()
    {
        var challenge = await ChallengedAsync();

        using var page = await _http.GetAsync($"/v3/authenticate/{challenge.IntentId}?client_secret={challenge.IntentId}_secret_0", Ct);
        using var answer = await PostFormAsync($"/v3/authenticate/{challenge.IntentId}",
            new() { ["client_secret"] = challenge.IntentId + "_secret_0", ["outcome"] = "complete" });

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        Assert.Equal(0, _gateway.Simulator.Ledger("cart_http").Charges);
    }

    [Fact]
    public async Task Challenge_FramedByHandleNextAction_ReportsTheOutcomeToThatOriginOnly()
    {
        var challenge = await ChallengedAsync();

        using var page = await _http.GetAsync(challenge.NextAction!.RedirectToUrl.Url + "&origin=" + Uri.EscapeDataString(Shop), Ct);
        using var answer = await PostFormAsync($"/v3/authenticate/{challenge.IntentId}",
            new() { ["client_secret"] = challenge.ClientSecret!, ["outcome"] = "complete", ["origin"] = Shop });
        using var foreign = await _http.GetAsync(challenge.NextAction.RedirectToUrl.Url + "&origin=" + Uri.EscapeDataString("https://evil.example"), Ct);
        var done = await answer.Content.ReadAsStringAsync(Ct);

        Assert.Contains("frame-ancestors " + Shop, page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("frame-ancestors " + Shop, answer.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("&quot;status&quot;:&quot;succeeded&quot;", done, StringComparison.Ordinal);
        Assert.DoesNotContain(challenge.ClientSecret!, done, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }

    [Fact]
    public async Task PaymentMethods_ValidCard_GivesAPmIdWithBrandAndLast4_ThatConfirmsAsItsTestCard()
    {
        using var response = await PostFormAsync("/v1/payment_methods", Card("4000 0000 0000 9995"), "pk_test_sim");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var id = json.RootElement.GetProperty("id").GetString()!;
        using var confirm = await ConfirmAsync(id, "k9995");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("pm_", id, StringComparison.Ordinal);
        var card = json.RootElement.GetProperty("card");
        Assert.Equal(("visa", "9995", 12, 2030), (card.GetProperty("brand").GetString(), card.GetProperty("last4").GetString(),
            card.GetProperty("exp_month").GetInt32(), card.GetProperty("exp_year").GetInt32()));
        Assert.Equal(HttpStatusCode.PaymentRequired, confirm.StatusCode);
        Assert.Equal("insufficient_funds", (await confirm.Content.ReadFromJsonAsync(GatewayJson.Default.GatewayError, Ct))!.DeclineCode);
    }

    [Theory]
    [InlineData("4242424242424241", "12", "30", "invalid_number")]
    [InlineData("4242424242424242", "02", "26", "invalid_expiry_year_past")]
    public async Task PaymentMethods_BadCard_Is402CardErrorWithTheFieldsCode(string number, string month, string year, string code)
    {
        using var response = await PostFormAsync("/v1/payment_methods", Card(number, month, year), "pk_test_sim");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.Equal("card_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(code, json.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk_test_secret")]
    public async Task PaymentMethods_WithoutAPublishableKey_Is401(string? bearer)
    {
        using var response = await PostFormAsync("/v1/payment_methods", Card("4242424242424242"), bearer);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task HostedCard_ValidCard_RedirectsToTheShopWithThePmIdBrandAndLast4()
    {
        using var form = await _http.GetAsync("/v3/hosted/card?return_url=" + Uri.EscapeDataString(ReturnUrl), Ct);
        var html = await form.Content.ReadAsStringAsync(Ct);
        using var submit = await PostFormAsync("/v3/hosted/card", new()
        {
            ["return_url"] = ReturnUrl, ["number"] = "4242 4242 4242 4242", ["expiry"] = "12 / 30", ["cvc"] = "123", ["postal_code"] = "10001",
        });

        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        foreach (var (id, label) in new[] { ("number", "Card number"), ("expiry", "Expiry (MM / YY)"), ("cvc", "Security code"), ("postal_code", "Postal code") })
        {
            Assert.Contains($"<label for=\"{id}\">{label}</label><input id=\"{id}\"", html, StringComparison.Ordinal);
        }
        Assert.Contains("frame-ancestors 'none'", form.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
        var back = submit.Headers.Location!.ToString();
        Assert.Matches(@"^" + System.Text.RegularExpressions.Regex.Escape(ReturnUrl) + "&payment_method=pm_[A-Za-z0-9]+&brand=visa&last4=4242$", back);
    }

    [Fact]
    public async Task HostedCard_InvalidNumber_ShowsTheErrorOnTheFieldAndDoesNotEchoTheNumber()
    {
        using var submit = await PostFormAsync("/v3/hosted/card", new()
        {
            ["return_url"] = ReturnUrl, ["number"] = "4242 4242 4242 4241", ["expiry"] = "12 / 30", ["cvc"] = "123", ["postal_code"] = "10001",
        });
        var html = await submit.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, submit.StatusCode);
        Assert.Contains("aria-describedby=\"number-error\" aria-invalid=\"true\" autofocus><span class=\"e\" id=\"number-error\" aria-live=\"polite\">Your card number is invalid.</span>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("4241", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostedCard_PostedFromTheShopWithoutCardFields_OpensTheForm()
    {
        using var response = await PostFormAsync("/v3/hosted/card", new() { ["return_url"] = ReturnUrl });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Use this card", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://evil.example/steal")]
    [InlineData("javascript:alert(1)")]
    public async Task HostedCard_ReturnUrlNotAllowed_Is400(string returnUrl)
    {
        using var get = await _http.GetAsync("/v3/hosted/card?return_url=" + Uri.EscapeDataString(returnUrl), Ct);
        using var post = await PostFormAsync("/v3/hosted/card", new()
        {
            ["return_url"] = returnUrl, ["number"] = "4242424242424242", ["expiry"] = "12 / 30", ["cvc"] = "123", ["postal_code"] = "10001",
        });

        Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
    }

    [Fact]
    public async Task CardFrame_MayBeFramedOnlyByTheAllowedOriginItServes()
    {
        using var allowed = await _http.GetAsync($"/v3/elements/card?origin={Uri.EscapeDataString(Shop)}&key=pk_test_sim", Ct);
        using var foreign = await _http.GetAsync($"/v3/elements/card?origin={Uri.EscapeDataString("https://evil.example")}&key=pk_test_sim", Ct);
        var html = await allowed.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        var csp = allowed.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors " + Shop + ";", csp, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Contains("<label for=\"number\">Card number", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);
    }

    [Fact]
    public async Task StripeJs_IsServedAsScript()
    {
        using var response = await _http.GetAsync("/v3/stripe.js", Ct);
        var script = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("createPaymentMethod", script, StringComparison.Ordinal);
        Assert.Contains("handleNextAction", script, StringComparison.Ordinal);
    }

    /// <summary>A loopback endpoint that takes the simulator's webhooks, as the service's would.</summary>
    private sealed class WebhookReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly Channel<(string Signature, string Payload)> _received;

        private WebhookReceiver(WebApplication app, Channel<(string, string)> received, Uri url)
        {
            _app = app;
            _received = received;
            Url = url;
        }

        public Uri Url { get; }

        public static async Task<WebhookReceiver> StartAsync()
        {
            var received = Channel.CreateUnbounded<(string, string)>();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.MapPost("/webhooks", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                received.Writer.TryWrite((request.Headers["Stripe-Signature"].ToString(), await reader.ReadToEndAsync()));
                return Results.Ok();
            });
            await app.StartAsync();
            return new WebhookReceiver(app, received, new Uri(app.Urls.First() + "/webhooks"));
        }

        public async Task<(string Signature, string Payload)> NextAsync() =>
            await _received.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
